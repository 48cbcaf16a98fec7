import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isSnakepitError } from "@snakepit/errors";
import { isRunning, processState, waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { isAlive, killWithEscalation, readProcessIdentity } from "./index.js";
import { killAll, spawnFixture } from "./spawn-fixture.test-helper.js";

const started: number[] = [];
afterEach(() => killAll(started.splice(0)));

function start(name: string, args: string[] = [], detached = false) {
  const fixture = spawnFixture(name, args, detached);
  started.push(fixture.pid);
  return fixture;
}

describe("killWithEscalation", () => {
  it("stops a process that exits on SIGTERM within the grace period: `signaled`", async () => {
    const f = start("exits-on-sigterm.mjs");
    await f.firstLine;
    const outcome = await killWithEscalation(f.pid, { graceMs: 5000 });
    expect(outcome).toMatchObject({ pid: f.pid, reason: "signaled" });
    expect(outcome.elapsedMs).toBeLessThan(5000);
    expect(isRunning(f.pid)).toBe(false);
  });

  it("reports the exit code when the caller passes the child's `exited`: `exited`", async () => {
    const f = start("exits-on-sigterm.mjs");
    await f.firstLine;
    const outcome = await killWithEscalation(f.pid, { graceMs: 5000, exited: f.exited });
    expect(outcome).toMatchObject({ pid: f.pid, reason: "exited", exitCode: 0 });
  });

  it("SIGKILLs a SIGTERM-ignoring process after graceMs: `forced`", async () => {
    const f = start("ignores-sigterm.mjs");
    await f.firstLine;
    const outcome = await killWithEscalation(f.pid, { graceMs: 300, exited: f.exited });
    expect(outcome).toMatchObject({ pid: f.pid, reason: "forced", signal: "SIGKILL" });
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(isRunning(f.pid)).toBe(false);
  });

  it("keeps a script alive while it waits (a CLI whose only pending work is the kill finishes it)", async () => {
    const f = start("ignores-sigterm.mjs");
    await f.firstLine;
    // Nothing but the kill's own waiting holds this script's event loop open: if the waits did
    // not, node would exit 13 (unsettled top-level await) halfway through the grace period.
    const { stdout } = await promisify(execFile)(process.execPath, [
      fileURLToPath(new URL("../test/fixtures/kill-from-script.mjs", import.meta.url)),
      String(f.pid),
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ pid: f.pid, reason: "forced" });
    expect(isRunning(f.pid)).toBe(false);
  });

  it("kills a whole tree by process group: neither child nor grandchild survives", async () => {
    const f = start("spawns-grandchildren.mjs", [], true);
    const { leader, child, grandchild } = JSON.parse(await f.firstLine);
    started.push(child, grandchild);
    expect(readProcessIdentity(grandchild)?.pgid).toBe(leader);
    // The leader exits on SIGTERM at once, but its child ignores it: the group needs SIGKILL.
    const outcome = await killWithEscalation(leader, { graceMs: 300 });
    expect(outcome.reason).toBe("forced");
    for (const pid of [leader, child, grandchild]) expect(isRunning(pid)).toBe(false);
  });

  it("with `group: false` signals only the leader", async () => {
    const f = start("spawns-grandchildren.mjs", [], true);
    const { leader, child, grandchild } = JSON.parse(await f.firstLine);
    started.push(child, grandchild);
    const outcome = await killWithEscalation(leader, { graceMs: 2000, group: false });
    expect(outcome.reason).toBe("signaled");
    expect(isRunning(child)).toBe(true);
    expect(isRunning(grandchild)).toBe(true);
    await killWithEscalation(child, { graceMs: 0 });
    await killWithEscalation(grandchild, { graceMs: 0 });
  });

  it("kills the leftover group of a recorded leader that has died", async () => {
    const f = start("spawns-grandchildren.mjs", [], true);
    const { leader, child, grandchild } = JSON.parse(await f.firstLine);
    started.push(child, grandchild);
    const identity = readProcessIdentity(leader);
    process.kill(leader, "SIGKILL");
    await f.exited;
    const outcome = await killWithEscalation(identity ?? leader, { graceMs: 200 });
    expect(outcome.reason).toBe("forced");
    expect(isRunning(child) || isRunning(grandchild)).toBe(false);
  });

  it("with `firstSignal: null` sends nothing first: graceMs, then SIGKILL", async () => {
    // forever.mjs dies on SIGTERM at once: lasting the whole grace proves none was sent.
    const f = start("forever.mjs");
    await f.firstLine;
    const outcome = await killWithEscalation(f.pid, {
      firstSignal: null,
      graceMs: 300,
      exited: f.exited,
    });
    expect(outcome).toMatchObject({ pid: f.pid, reason: "forced", signal: "SIGKILL" });
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(300);
  });

  it("kills the group a zombie leader leaves behind, given only its pid", async () => {
    const f = start("zombie-leader.sh");
    const [leader, member] = (await f.firstLine).split(" ").map(Number) as [number, number];
    started.push(member);
    await waitFor(() => processState(leader) === "Z", { message: "the zombie leader" });
    expect(readProcessIdentity(member)?.pgid).toBe(leader);
    const outcome = await killWithEscalation(leader, { graceMs: 5000 });
    expect(outcome).toMatchObject({ pid: leader, reason: "signaled" });
    expect(isRunning(member)).toBe(false);
    // With `group: false` a zombie is simply gone.
    expect(await killWithEscalation(leader, { group: false })).toMatchObject({
      reason: "already-dead",
    });
  });

  it("signals nothing for a pid that is already gone: `already-dead`", async () => {
    const f = start("already-gone.mjs");
    await f.exited;
    expect(isAlive(f.pid)).toBe(false);
    expect(readProcessIdentity(f.pid)).toBeUndefined();
    expect(await killWithEscalation(f.pid)).toMatchObject({ pid: f.pid, reason: "already-dead" });
  });

  it("treats a zombie as dead", async () => {
    const f = start("makes-zombie.sh");
    const zombie = Number(await f.firstLine);
    await waitFor(() => processState(zombie) === "Z", { message: "the zombie" });
    expect(isAlive(zombie)).toBe(false);
    expect(await killWithEscalation(zombie)).toMatchObject({ reason: "already-dead" });
    await killWithEscalation(f.pid, { graceMs: 0 });
  });

  it.each([
    ["a wrong start time", (id: { startTime: number }) => ({ ...id, startTime: id.startTime - 1 })],
    ["a marker missing from its argv", (id: object) => ({ ...id, marker: "--snakepit-run-id x" })],
  ])("signals nothing when the record carries %s: `identity-mismatch`", async (_, corrupt) => {
    const f = start("forever.mjs");
    await f.firstLine;
    const identity = readProcessIdentity(f.pid);
    if (identity === undefined) throw new Error("no identity");
    const record = corrupt(identity) as typeof identity;
    const outcome = await killWithEscalation(record, { graceMs: 0 });
    expect(outcome).toMatchObject({ pid: f.pid, reason: "identity-mismatch" });
    // forever.mjs dies on any SIGTERM/SIGKILL: still running proves nothing was sent.
    expect(isRunning(f.pid)).toBe(true);
    expect((await killWithEscalation(identity, { graceMs: 1000 })).reason).toBe("signaled");
  });

  it("rejects with ABORTED when the signal aborts during the grace period", async () => {
    const f = start("ignores-sigterm.mjs");
    await f.firstLine;
    const controller = new AbortController();
    const pending = killWithEscalation(f.pid, { graceMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 100).unref();
    const err = await pending.catch((e: unknown) => e);
    expect(isSnakepitError(err, "ABORTED")).toBe(true);
    expect(isRunning(f.pid)).toBe(true);
    await killWithEscalation(f.pid, { graceMs: 0 });
  });

  it.each([
    [{ graceMs: -1 }, "Expected `graceMs` to be an integer >= 0, got `-1` (number)"],
    [{ firstSignal: "SIGNOPE" }, "Expected `firstSignal` to be a signal name"],
    [{ grace: 1 }, "Unknown option `grace`"],
  ])("validates options: %o", async (options, message) => {
    const err = await killWithEscalation(process.pid, options as never).catch((e: unknown) => e);
    expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
    expect((err as Error).message).toContain(message);
  });

  it("rejects a pid that is not a positive integer", async () => {
    const err = await killWithEscalation(0).catch((e: unknown) => e);
    expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
  });
});
