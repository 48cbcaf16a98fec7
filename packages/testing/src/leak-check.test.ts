import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diffResources, findLeaks, isRunning, snapshotResources } from "./index.js";

// These tests run without the setup file: they check that the checker catches each kind of leak.
describe("leak checks", () => {
  it("catches a process still running, and forgets it once killed", async () => {
    const before = snapshotResources();
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    const pid = child.pid ?? -1;
    expect(diffResources(before, snapshotResources()).join()).toContain(`process ${pid}`);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(isRunning(pid)).toBe(false);
    expect(await findLeaks(before, 1000)).toEqual([]);
  });

  it("catches a timer, a listener and a temp entry", async () => {
    const before = snapshotResources();
    const timer = setInterval(() => undefined, 1000);
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const dir = mkdtempSync(join(tmpdir(), "snakepit-leaktest-"));
    const leaks = diffResources(before, snapshotResources()).join("\n");
    expect(leaks).toContain("Timeout");
    expect(leaks).toMatch(/listening socket tcp port \d+/);
    expect(leaks).toContain("temp entry snakepit-leaktest-");
    clearInterval(timer);
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true });
    expect(await findLeaks(before, 1000)).toEqual([]);
  });

  it("names a leaked socket: its fd, what it is, its address and stream state", async () => {
    const dir = mkdtempSync(join(tmpdir(), "snakepit-leaktest-"));
    const path = join(dir, "s.sock");
    const server = createServer((socket) => socket.pause());
    await new Promise<void>((r) => server.listen(path, r));
    const before = snapshotResources();
    const client = createConnection(path);
    await new Promise((r) => client.once("connect", r));
    const leaks = diffResources(before, snapshotResources()).join("\n");
    expect(leaks).toContain("PipeWrap");
    // The client's end, and the server's (bound to the path; paused, so never reading).
    expect(leaks).toMatch(/new handle Socket: fd \d+ \(socket:\[\d+\]\), destroyed false/);
    expect(leaks).toMatch(
      new RegExp(
        `new handle Socket: fd \\d+ \\(socket:\\[\\d+\\]\\), path ${path}.*readableFlowing false`,
      ),
    );
    client.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true });
  });
});
