import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
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
});
