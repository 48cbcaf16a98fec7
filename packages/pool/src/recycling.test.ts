import { subscribe } from "@snakepit/telemetry";
import { isRunning, waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { echoAdapter, usePool } from "./pool-test-helpers.test-helper.js";

const MiB = 1024 * 1024;
const unsubscribes: Array<() => void> = [];
afterEach(() => {
  for (const off of unsubscribes.splice(0)) off();
});
function recycleEvents(): Array<{
  workerId: string;
  reason: string;
  callsServed: number;
  uptimeMs: number;
  memoryBytes: number | undefined;
}> {
  const events: Array<{
    workerId: string;
    reason: string;
    callsServed: number;
    uptimeMs: number;
    memoryBytes: number | undefined;
  }> = [];
  unsubscribes.push(subscribe("snakepit:worker:recycled", (e) => events.push(e)));
  return events;
}

describe("recycling (drain-then-swap)", () => {
  it("a pool of size 1 with maxRequests 5: 50 sequential calls all succeed, at least 9 recycles", async () => {
    const events = recycleEvents();
    const pool = usePool({ adapter: echoAdapter, size: 1, recycle: { maxRequests: 5 } });
    await pool.ready();
    for (let i = 0; i < 50; i++) expect(await pool.execute("sleep", { seconds: 0.1 })).toBe(0.1);
    expect(events.length).toBeGreaterThanOrEqual(9);
    expect(new Set(events.map((e) => e.reason))).toEqual(new Set(["max-requests"]));
    expect(pool.stats().callsFailed).toBe(0);
  }, 120_000);

  it("a pool of 4 under concurrent load with maxRequests 50 and jitter: no failed call, never fewer than 4 ready workers", async () => {
    const events = recycleEvents();
    const pool = usePool({
      adapter: echoAdapter,
      size: 4,
      recycle: { maxRequests: 50, maxRequestsJitter: 20 },
    });
    await pool.ready();
    let minReady = 4;
    const sampler = setInterval(() => {
      const ready = pool.stats().workerDetails.filter((w) => w.state === "ready").length;
      minReady = Math.min(minReady, ready);
    }, 2);
    let next = 0;
    const failures: unknown[] = [];
    try {
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next++ < 2000)
            await pool.execute("add", { a: 1, b: 2 }).catch((e: unknown) => failures.push(e));
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    expect(failures).toEqual([]);
    expect(events.length).toBeGreaterThanOrEqual(8);
    expect(new Set(events.map((e) => e.reason))).toEqual(new Set(["max-requests"]));
    expect(minReady).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it("a leaking worker is recycled by maxRssBytes within one sample interval of crossing it", async () => {
    const events = recycleEvents();
    const pool = usePool({
      adapter: echoAdapter,
      size: 1,
      recycle: { maxRssBytes: 150 * MiB, memorySampleIntervalMs: 250 },
    });
    await pool.ready();
    const [leaky] = pool.stats().pids as [number];
    await pool.execute("leak", { mib: 80 });
    await pool.execute("leak", { mib: 80 });
    const crossedAt = performance.now();
    await waitFor(() => events.length > 0, { timeoutMs: 5000, message: "a memory recycle" });
    expect(performance.now() - crossedAt).toBeLessThan(250 + 1000 + 500);
    expect(events[0]).toMatchObject({ reason: "memory" });
    expect(events[0]?.memoryBytes).toBeGreaterThan(150 * MiB);
    await waitFor(() => !isRunning(leaky), { message: "the leaky worker to stop" });
    expect(await pool.execute("add", { a: 1, b: 1 })).toBe(2);
  });

  it("measures a worker's memory together with its children's", async () => {
    const pool = usePool({
      adapter: echoAdapter,
      size: 1,
      recycle: { memorySampleIntervalMs: 200 },
    });
    await pool.ready();
    await waitFor(() => pool.stats().workerDetails[0]?.memoryBytes !== undefined, {
      message: "a first sample",
    });
    const alone = pool.stats().workerDetails[0]?.memoryBytes ?? 0;
    await pool.execute("spawn_hog", { mib: 100 });
    await waitFor(() => (pool.stats().workerDetails[0]?.memoryBytes ?? 0) > alone + 90 * MiB, {
      timeoutMs: 5000,
      message: "the child's memory in the sample",
    });
  });

  it("ttlMs recycles a worker that served no call at all", async () => {
    const events = recycleEvents();
    const pool = usePool({
      adapter: echoAdapter,
      size: 1,
      recycle: { ttlMs: 500, memorySampleIntervalMs: 200 },
    });
    await pool.ready();
    const [first] = pool.stats().pids as [number];
    await waitFor(() => events.length > 0, { timeoutMs: 5000, message: "a ttl recycle" });
    expect(events[0]).toMatchObject({ reason: "ttl", callsServed: 0 });
    await waitFor(() => !isRunning(first), { message: "the old worker to stop" });
    expect(pool.stats().pids).not.toContain(first);
  });

  it("a manual recycle during a long call: the call completes, then the old worker is gone", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1 });
    await pool.ready();
    const { workerId, pid } = pool.stats().workerDetails[0] as { workerId: string; pid: number };
    const call = pool.execute("sleep", { seconds: 1 });
    await waitFor(() => pool.stats().inFlight === 1);
    const recycled = pool.recycle(workerId);
    expect(await call).toBe(1);
    await recycled;
    expect(isRunning(pid)).toBe(false);
    expect(pool.stats()).toMatchObject({ recyclesByReason: { manual: 1 }, callsFailed: 0 });
    expect(pool.stats().pids).toHaveLength(1);
  });

  it("recycleAll replaces every worker, one at a time", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 2 });
    await pool.ready();
    const before = pool.stats().pids;
    await pool.recycleAll();
    const after = pool.stats().pids;
    expect(after).toHaveLength(2);
    for (const pid of before) expect(after).not.toContain(pid);
  });
});

describe("maxRequests (issue 14)", () => {
  it("each worker serves between maxRequests and maxRequests + jitter calls — never fewer — under concurrent load", async () => {
    const events = recycleEvents();
    const pool = usePool({
      adapter: echoAdapter,
      size: 2,
      recycle: { maxRequests: 10, maxRequestsJitter: 5 },
    });
    await pool.ready();
    const served = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next++ < 300) {
          const pid = await pool.execute<number>("pid");
          served.set(pid, (served.get(pid) ?? 0) + 1);
        }
      }),
    );
    const live = new Set(pool.stats().pids);
    const retired = [...served].filter(([pid]) => !live.has(pid)).map(([, n]) => n);
    expect(retired.length).toBeGreaterThanOrEqual(15);
    for (const n of retired) {
      expect(n).toBeGreaterThanOrEqual(10);
      expect(n).toBeLessThanOrEqual(15);
    }
    for (const pid of live) expect(served.get(pid) ?? 0).toBeLessThanOrEqual(15);
    expect(new Set(events.map((e) => e.reason))).toEqual(new Set(["max-requests"]));
    expect(pool.stats().callsFailed).toBe(0);
  }, 120_000);
});
