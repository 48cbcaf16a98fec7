import { spawn } from "node:child_process";
import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { awaitWorkerReady } from "./await-worker-ready.js";
import { OutputTail } from "./output-tail.js";
import { createPrivateDirectory } from "./private-directory.js";
import type { WorkerExit } from "./worker-exit.js";

/** The near end of a Unix socket whose far end writes `text` and ends; `close` closes the server. */
async function socketAfterPeerWrote(
  path: string,
  text: string,
): Promise<{ near: Socket; close: () => Promise<void> }> {
  const server = createServer((peer) => peer.end(text));
  server.listen(path);
  await once(server, "listening");
  const near = createConnection(path);
  await once(near, "connect");
  // Closes once its side of the connection has closed too (the near end is destroyed).
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { near, close };
}

describe("awaitWorkerReady", () => {
  it("a start that fails before it began reading closes the control and frames sockets", async () => {
    const dir = await createPrivateDirectory();
    const [, controlPath] = dir.socketAddress("control.sock").split("unix:");
    const [, framesPath] = dir.socketAddress("frames.sock").split("unix:");
    // Both far ends wrote before the host read anything: unread, these sockets never see EOF.
    const controlPair = await socketAfterPeerWrote(controlPath ?? "", '{"event":"log"}\n');
    const framesPair = await socketAfterPeerWrote(framesPath ?? "", "\0\0\0\0");
    const control = controlPair.near;
    const frames = framesPair.near;
    const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    const exited = once(child, "exit").then(([code, signal]) => ({ code, signal }) as WorkerExit);
    const starting = awaitWorkerReady(
      { workerId: "w1", signal: AbortSignal.abort(new Error("pool closing")) },
      "adapter.py:A",
      { pid: child.pid, control, frames, tail: new OutputTail(), exited, exit: () => undefined },
    );
    await expect(starting).rejects.toMatchObject({ code: "ABORTED" });
    expect(await exited).toMatchObject({ signal: "SIGKILL" });
    expect(control.destroyed).toBe(true);
    expect(frames.destroyed).toBe(true);
    await Promise.all([controlPair.close(), framesPair.close()]);
    await dir.remove();
  });
});
