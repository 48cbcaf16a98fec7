import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  findProcessesByMarker,
  isAlive,
  killWithEscalation,
  readProcessIdentity,
  verifyIdentity,
} from "./index.js";
import { killAll, spawnFixture } from "./spawn-fixture.test-helper.js";

const started: number[] = [];
afterEach(() => killAll(started.splice(0)));

async function forever(args: string[] = [], detached = false) {
  const f = spawnFixture("forever.mjs", args, detached);
  started.push(f.pid);
  await f.firstLine;
  return f;
}

describe("process identity", () => {
  it("reads pid, start time (/proc/<pid>/stat field 22) and process group", async () => {
    const f = await forever([], true);
    const identity = readProcessIdentity(f.pid);
    const stat = readFileSync(`/proc/${f.pid}/stat`, "utf8");
    const field22 = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    expect(identity).toEqual({ pid: f.pid, startTime: field22, pgid: f.pid });
    expect(readProcessIdentity(process.pid)?.pgid).not.toBe(f.pid);
    await killWithEscalation(f.pid, { graceMs: 0 });
  });

  it("verifies while the same process runs, not after it is gone or with another start time", async () => {
    const f = await forever();
    const identity = readProcessIdentity(f.pid);
    if (identity === undefined) throw new Error("no identity");
    expect(verifyIdentity(identity)).toBe(true);
    expect(verifyIdentity({ ...identity, startTime: identity.startTime + 1 })).toBe(false);
    expect(isAlive(f.pid)).toBe(true);
    await killWithEscalation(f.pid, { graceMs: 0 });
    expect(verifyIdentity(identity)).toBe(false);
    expect(isAlive(f.pid)).toBe(false);
  });

  it("matches markers as whole argv tokens", async () => {
    const f = await forever(["--snakepit-run-id", "abc1234"]);
    const other = await forever(["--snakepit-run-id", "abc12345"]);
    const marker = "--snakepit-run-id abc1234";
    expect(readProcessIdentity(f.pid, { marker })?.marker).toBe(marker);
    expect(readProcessIdentity(other.pid, { marker })).toBeUndefined();
    expect(findProcessesByMarker(marker).map((p) => p.pid)).toEqual([f.pid]);
    expect(findProcessesByMarker("--snakepit-run-id abc12345").map((p) => p.pid)).toEqual([
      other.pid,
    ]);
    await killWithEscalation(f.pid, { graceMs: 0 });
    await killWithEscalation(other.pid, { graceMs: 0 });
    expect(findProcessesByMarker(marker)).toEqual([]);
  });

  it("rejects bad arguments with INVALID_OPTIONS", () => {
    for (const call of [
      () => readProcessIdentity(-1),
      () => readProcessIdentity(1, { marker: "" }),
      () => isAlive(1.5),
      () => findProcessesByMarker(""),
    ]) {
      expect(() => call()).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    }
  });
});
