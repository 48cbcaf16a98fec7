import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLifecycleScheduler, type LifecycleSchedulerOptions } from "./lifecycle-scheduler.js";
import type { WorkerFacts } from "./recycle-policy.js";
import type { MemorySample } from "./sample-memory.js";

const MiB = 1024 * 1024;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

/** A worker table the test owns, like a pool's; the scheduler only reads it. */
function table(...workers: WorkerFacts[]) {
  const rows = new Map(workers.map((w) => [w.workerId, w]));
  return {
    rows,
    list: () => [...rows.values()],
    set: (w: WorkerFacts) => rows.set(w.workerId, w),
  };
}

function setup(
  overrides: Partial<LifecycleSchedulerOptions> & Pick<LifecycleSchedulerOptions, "list">,
) {
  const recycled: [string, string][] = [];
  const errors: unknown[] = [];
  const scheduler = createLifecycleScheduler({
    policy: {},
    onRecycle: (id, d) => recycled.push([id, d.reason]),
    onError: (e) => errors.push(e),
    ...overrides,
  });
  return { scheduler, recycled, errors };
}

describe("createLifecycleScheduler", () => {
  it("checks at start and every checkIntervalMs, from the caller's table each time", async () => {
    const t = table({ workerId: "a", startedAt: Date.now(), callsServed: 0 });
    const list = vi.fn(t.list);
    const { scheduler, recycled } = setup({
      list,
      policy: { maxRequests: 5 },
      checkIntervalMs: 1000,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(list).toHaveBeenCalledTimes(1);
    t.set({ workerId: "a", startedAt: Date.now(), callsServed: 5 });
    await vi.advanceTimersByTimeAsync(999);
    expect(recycled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(recycled).toEqual([["a", "max-requests"]]);
    expect(list).toHaveBeenCalledTimes(2);
    await scheduler.stop();
  });

  it("requests a recycle once per worker until it leaves the list, then again for a newcomer", async () => {
    const t = table({ workerId: "a", startedAt: Date.now(), callsServed: 0 });
    const { scheduler, recycled } = setup({ list: t.list, policy: { ttlMs: 10_000 } });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(recycled).toEqual([["a", "ttl"]]);
    t.rows.delete("a");
    await vi.advanceTimersByTimeAsync(1000);
    t.set({ workerId: "a", startedAt: Date.now() - 20_000, callsServed: 0 }); // same id, new worker
    await vi.advanceTimersByTimeAsync(1000);
    expect(recycled).toEqual([
      ["a", "ttl"],
      ["a", "ttl"],
    ]);
    await scheduler.stop();
  });

  it("samples memory every intervalMs and recycles within one interval after the limit is crossed", async () => {
    let bytes = 50 * MiB;
    const sample = vi.fn(
      async (f: WorkerFacts): Promise<MemorySample> => ({
        pid: f.pid ?? 0,
        bytes,
        processes: 1,
        kind: "rss",
        sampledAt: Date.now(),
      }),
    );
    const samples: number[] = [];
    const t = table({ workerId: "a", pid: 4242, startedAt: Date.now(), callsServed: 0 });
    const { scheduler, recycled } = setup({
      list: t.list,
      sample,
      onSample: (_id, s) => samples.push(s.bytes / MiB),
      policy: { maxRssBytes: 100 * MiB },
      intervalMs: 5000,
      checkIntervalMs: 1000,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sample).toHaveBeenCalledTimes(3); // t = 0, 5 s, 10 s
    bytes = 150 * MiB; // crossed at t = 10 s
    await vi.advanceTimersByTimeAsync(4999);
    expect(recycled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(recycled).toEqual([["a", "memory"]]);
    expect(samples).toEqual([50, 50, 50, 150]);
    await scheduler.stop();
  });

  it("never overlaps checks: a slow sample delays the next tick instead of stacking", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const sample = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 3000));
      inFlight--;
      return undefined;
    };
    const t = table({ workerId: "a", startedAt: Date.now(), callsServed: 0 });
    const { scheduler } = setup({
      list: t.list,
      sample,
      policy: { maxRssBytes: MiB },
      intervalMs: 1,
      checkIntervalMs: 1,
    });
    scheduler.start();
    const manual = scheduler.checkNow();
    await vi.advanceTimersByTimeAsync(20_000);
    await manual;
    expect(maxInFlight).toBe(1);
    await scheduler.stop();
  });

  it("checkNow() returns a decision per worker and works before start()", async () => {
    const t = table(
      { workerId: "a", startedAt: Date.now(), callsServed: 3 },
      { workerId: "b", startedAt: Date.now(), callsServed: 0 },
    );
    const { scheduler, recycled } = setup({ list: t.list, policy: { maxRequests: 3 } });
    expect(await scheduler.checkNow()).toEqual([
      { workerId: "a", recycle: true, reason: "max-requests", detail: "served 3 calls, limit 3" },
      { workerId: "b", recycle: false },
    ]);
    expect(recycled).toEqual([["a", "max-requests"]]);
    expect(scheduler.state).toBe("idle");
    await scheduler.stop();
  });

  it("reports errors from list, sample, shouldRecycle and onRecycle and keeps going", async () => {
    let failList = true;
    const t = table({ workerId: "a", startedAt: Date.now(), callsServed: 0 });
    const { scheduler, errors } = setup({
      list: () => {
        if (failList) throw new Error("table locked");
        return t.list();
      },
      sample: () => Promise.reject(new Error("EACCES")),
      policy: {
        maxRssBytes: MiB,
        shouldRecycle: () => {
          throw new Error("predicate bug");
        },
      },
    });
    expect(await scheduler.checkNow()).toEqual([]);
    failList = false;
    expect(await scheduler.checkNow()).toEqual([{ workerId: "a", recycle: false }]);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      "table locked",
      "EACCES",
      "predicate bug",
    ]);
    expect(errors.every((e) => (e as { code: string }).code === "INTERNAL")).toBe(true);
    await scheduler.stop();
  });

  it("goes idle → running → stopped; stop() is idempotent, aborts samples and clears its timer", async () => {
    let seen: AbortSignal | undefined;
    const t = table({ workerId: "a", startedAt: Date.now(), callsServed: 0 });
    const { scheduler } = setup({
      list: t.list,
      sample: (_f, signal) => {
        seen = signal;
        return new Promise((resolve) => signal.addEventListener("abort", () => resolve(undefined)));
      },
      policy: { maxRssBytes: MiB },
    });
    expect(scheduler.state).toBe("idle");
    scheduler.start();
    expect(scheduler.state).toBe("running");
    await vi.advanceTimersByTimeAsync(0);
    expect(seen?.aborted).toBe(false);
    const first = scheduler.stop();
    expect(scheduler.stop()).toBe(first);
    await first;
    expect(scheduler.state).toBe("stopped");
    expect(seen?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    scheduler.start();
    expect(scheduler.state).toBe("stopped");
    await expect(scheduler.checkNow()).rejects.toMatchObject({ code: "ABORTED" });
  });

  it("checkNow(signal) rejects with ABORTED when the caller aborts", async () => {
    const t = table({ workerId: "a", startedAt: Date.now(), callsServed: 0 });
    const { scheduler } = setup({ list: t.list });
    await expect(scheduler.checkNow(AbortSignal.abort())).rejects.toMatchObject({
      code: "ABORTED",
    });
    await scheduler.stop();
  });

  it.each([
    [{ list: undefined }, "lifecycle.list"],
    [{ intervalMs: 0 }, "lifecycle.intervalMs"],
    [{ checkIntervalMs: -1 }, "lifecycle.checkIntervalMs"],
    [{ policy: { ttlMs: 0 } }, "lifecycle.policy.ttlMs"],
    [{ onrecycle: () => undefined }, "lifecycle.onrecycle"],
  ])("rejects %j naming %s", (bad, option) => {
    expect(() =>
      createLifecycleScheduler({
        list: () => [],
        policy: {},
        onRecycle: () => undefined,
        ...bad,
      } as never),
    ).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTIONS",
        details: expect.objectContaining({ option }),
      }),
    );
  });
});
