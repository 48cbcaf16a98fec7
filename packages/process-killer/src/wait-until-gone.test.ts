import { isSnakepitError } from "@snakepit/errors";
import { isRunning, processState, waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { killWithEscalation, waitUntilGone } from "./index.js";
import { killAll, spawnFixture } from "./spawn-fixture.test-helper.js";

const started: number[] = [];
afterEach(() => killAll(started.splice(0)));

function start(name: string) {
  const fixture = spawnFixture(name);
  started.push(fixture.pid);
  return fixture;
}

describe("waitUntilGone", () => {
  it("resolves once the process has ended, signalling nothing itself", async () => {
    const f = start("forever.mjs");
    await f.firstLine;
    let done = false;
    const waiting = waitUntilGone(f.pid).then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done).toBe(false);
    expect(isRunning(f.pid)).toBe(true);
    process.kill(f.pid, "SIGTERM");
    await waiting;
    expect(isRunning(f.pid)).toBe(false);
  });

  it("counts a zombie as gone", async () => {
    const f = start("makes-zombie.sh");
    const zombie = Number(await f.firstLine);
    await waitFor(() => processState(zombie) === "Z", { message: "the zombie" });
    await waitUntilGone(zombie);
    await killWithEscalation(f.pid, { graceMs: 0 });
  });

  it("rejects with ABORTED when the signal aborts, leaving the process alone", async () => {
    const f = start("forever.mjs");
    await f.firstLine;
    const controller = new AbortController();
    const waiting = waitUntilGone(f.pid, { signal: controller.signal });
    controller.abort();
    const err = await waiting.catch((e: unknown) => e);
    expect(isSnakepitError(err, "ABORTED")).toBe(true);
    expect(isRunning(f.pid)).toBe(true);
    await killWithEscalation(f.pid, { graceMs: 1000 });
  });

  it.each([
    ["a pid that is not a positive integer", () => waitUntilGone(0)],
    ["an unknown option", () => waitUntilGone(1, { timeout: 5 } as never)],
  ])("rejects %s with INVALID_OPTIONS", async (_, call) => {
    const err = await call().catch((e: unknown) => e);
    expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
  });
});
