import { canFork } from "@snakepit/python-bridge";
import { isRunning, parentPid, waitFor } from "@snakepit/testing";
import { describe, expect, it } from "vitest";
import { echoAdapter, usePool } from "./pool-test-helpers.test-helper.js";

describe.runIf(canFork())("fork mode", () => {
  it("12 workers starting at once and 16 calls at once on one worker raise no listener-leak warning", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const pool = usePool({
        adapter: echoAdapter,
        size: 12,
        startMode: "fork",
        profile: "thread",
        threadsPerWorker: 16,
        registry: false,
      });
      await pool.ready();
      const calls = Array.from({ length: 16 * 12 }, (_, i) => pool.execute("echo", { value: i }));
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 16 * 12 }, (_, i) => i));
      await pool.close();
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("the fork server dies: the pool keeps serving on the same workers, and new workers come from a new fork server", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 2, startMode: "fork", registry: false });
    await pool.ready();
    const pids = [...pool.stats().pids].sort();
    const server = parentPid(pids[0] as number);
    expect(parentPid(pids[1] as number)).toBe(server);
    process.kill(server, "SIGKILL");
    await waitFor(() => !isRunning(server), { message: "the fork server to die" });
    // Past the workers' check that the host lives (about 1.3 s).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const served = await Promise.all(Array.from({ length: 20 }, () => pool.execute("pid")));
    expect([...new Set(served)].sort()).toEqual(pids);
    expect(pool.stats()).toMatchObject({ state: "ready", restarts: 0 });
    // A recycled worker's successor is forked by the fork server the pool started in the meantime.
    const [first] = pool.stats().workerDetails;
    await pool.recycle(first?.workerId as string);
    const fresh = pool.stats().pids.find((pid) => !pids.includes(pid)) as number;
    expect(fresh).toBeDefined();
    const next = parentPid(fresh);
    expect(next).not.toBe(server);
    expect(isRunning(next)).toBe(true);
    expect(await pool.execute("echo", { value: "after" })).toBe("after");
    await pool.close();
    for (const pid of [...pids, fresh, next]) expect(isRunning(pid)).toBe(false);
  });
});
