// Chaos: a worker runs out of file descriptors (RLIMIT_NOFILE lowered on the live process).
import { spawnSync } from "node:child_process";
import { waitFor } from "@snakepit/testing";
import { describe, expect, it } from "vitest";
import { rejection, usePool } from "./pool-test-helpers.test-helper.js";

const adapter = `${new URL("../test/fixtures/hostile_adapter.py", import.meta.url).pathname}:HostileAdapter`;

function prlimitSkipReason(): string | undefined {
  if (process.platform !== "linux") return `needs Linux, not ${process.platform}`;
  const probe = spawnSync("prlimit", ["--pid", String(process.pid), "--nofile"]);
  return probe.status === 0 ? undefined : "prlimit is not available";
}
const skip = prlimitSkipReason();
if (skip !== undefined) console.log(`chaos-fd-exhaustion: skipped: ${skip}`);

describe.skipIf(skip !== undefined)("chaos: a worker out of file descriptors", () => {
  it("the tool fails with a coded error, the worker keeps serving, and recycled workers are whole again", async () => {
    const pool = usePool({ adapter, size: 2, timeoutMs: 15_000 });
    await pool.ready();
    const pids = [...pool.stats().pids];
    for (const pid of pids) {
      const limited = spawnSync("prlimit", ["--pid", String(pid), "--nofile=64:64"]);
      expect(limited.status).toBe(0);
    }

    const error = await rejection(pool.execute("open_files", { n: 1000 }));
    expect(error.code).toBe("TOOL_ERROR");
    expect(error.details).toMatchObject({ type: "OSError" });
    expect(error.message).toMatch(/Too many open files/);

    // Every worker, the exhausted one included, still answers.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pool.execute("echo", { value: i })),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool.stats()).toMatchObject({ state: "ready", health: "ok" });

    await pool.recycleAll();
    // Whole again: two workers, none of the exhausted ones (a replacement may still be starting
    // if an exhausted worker was already replaced for failing its heartbeats).
    await waitFor(
      () => {
        const now = pool.stats().pids;
        return now.length === 2 && now.every((pid) => !pids.includes(pid));
      },
      { timeoutMs: 30_000, message: "two fresh workers" },
    );
    expect(await pool.execute("open_files", { n: 100 })).toBe(100);
    await pool.close();
  }, 90_000);
});
