// Chaos: the fork server is SIGKILLed while callers keep the pool busy and workers recycle.
import { canFork } from "@snakepit/python-bridge";
import { isRunning, parentPid, waitFor } from "@snakepit/testing";
import { describe, expect, it } from "vitest";
import { echoAdapter, usePool } from "./pool-test-helpers.test-helper.js";

describe.runIf(canFork())("chaos: fork server killed under load", () => {
  it("every call is answered, recycled workers come from a new fork server, nothing hangs", async () => {
    const pool = usePool({
      adapter: echoAdapter,
      size: 3,
      startMode: "fork",
      registry: false,
      timeoutMs: 15_000, // bounds every call: a hang fails the test instead of stalling it
    });
    await pool.ready();
    const server = parentPid(pool.stats().pids[0] as number);
    let stop = false;
    let answered = 0;
    const failures: unknown[] = [];
    const caller = async (n: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const value = `${n}-${i}`;
          expect(await pool.execute("echo", { value })).toBe(value);
          answered++;
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const callers = Array.from({ length: 12 }, (_, n) => caller(n));
    await waitFor(() => answered >= 100, { timeoutMs: 30_000, message: "calls before the kill" });
    process.kill(server, "SIGKILL");
    await waitFor(() => !isRunning(server), { message: "the fork server to die" });
    // Under load, recycle every worker: each successor needs a fork server, so a new one starts.
    for (const { workerId } of pool.stats().workerDetails) await pool.recycle(workerId);
    const before = answered;
    await waitFor(() => answered >= before + 100, {
      timeoutMs: 30_000,
      message: "calls after the kill",
    });
    stop = true;
    await Promise.all(callers);

    expect(failures).toEqual([]);
    const pids = pool.stats().pids;
    expect(pids).toHaveLength(3);
    for (const pid of pids) {
      expect(parentPid(pid)).not.toBe(server);
      expect(isRunning(parentPid(pid))).toBe(true);
    }
    expect(pool.stats()).toMatchObject({ state: "ready", health: "ok" });
    await pool.close();
  });
});
