import { describe, expect, it } from "vitest";
import { decideRecycle } from "./decide-recycle.js";
import { type RecyclePolicy, validateRecyclePolicy, type WorkerFacts } from "./recycle-policy.js";
import { resolveMaxRequests, workerRandom } from "./resolve-max-requests.js";

const MiB = 1024 * 1024;
const NOW = 1_700_000_000_000;
const base: WorkerFacts = { workerId: "w1", startedAt: NOW - 60_000, callsServed: 10 };

describe("decideRecycle", () => {
  it.each<[string, Partial<WorkerFacts>, RecyclePolicy, string | false, string?]>([
    ["nothing configured", {}, {}, false],
    ["ttl not reached", {}, { ttlMs: 60_001 }, false],
    [
      "ttl reached, even with no call served",
      { callsServed: 0 },
      { ttlMs: 60_000 },
      "ttl",
      "up 60000 ms, ttl 60000 ms",
    ],
    ["max-requests not reached", {}, { maxRequests: 11 }, false],
    ["max-requests reached", {}, { maxRequests: 10 }, "max-requests", "served 10 calls, limit 10"],
    [
      "the worker's own fixed limit wins over the policy",
      { maxRequests: 12 },
      { maxRequests: 10, maxRequestsJitter: 5 },
      false,
    ],
    [
      "the worker's own fixed limit reached",
      { callsServed: 12, maxRequests: 12 },
      { maxRequests: 10, maxRequestsJitter: 5 },
      "max-requests",
      "served 12 calls, limit 12",
    ],
    ["memory below", { memoryBytes: 99 * MiB }, { maxRssBytes: 100 * MiB }, false],
    [
      "memory reached",
      { memoryBytes: 100 * MiB },
      { maxRssBytes: 100 * MiB },
      "memory",
      "uses 100.0 MiB, limit 100.0 MiB",
    ],
    [
      "memory sample from before the worker started is ignored",
      { memoryBytes: 500 * MiB, memorySampledAt: NOW - 70_000 },
      { maxRssBytes: 100 * MiB },
      false,
    ],
    ["memory unknown", {}, { maxRssBytes: 1 }, false],
    [
      "unhealthy below threshold",
      { healthy: false, consecutiveHealthFailures: 2 },
      { unhealthyAfter: 3 },
      false,
    ],
    [
      "unhealthy at threshold",
      { healthy: false, consecutiveHealthFailures: 3 },
      { unhealthyAfter: 3 },
      "unhealthy",
      "3 health checks failed in a row, limit 3",
    ],
    [
      "healthy: false counts as one failure",
      { healthy: false },
      { unhealthyAfter: 1 },
      "unhealthy",
    ],
    ["custom predicate says no", {}, { shouldRecycle: () => false }, false],
    [
      "custom predicate says why",
      {},
      { shouldRecycle: (f) => `gpu leak on ${f.workerId}` },
      "custom",
      "gpu leak on w1",
    ],
    [
      "unhealthy beats memory beats max-requests beats ttl beats custom",
      { healthy: false, memoryBytes: 2 * MiB },
      { unhealthyAfter: 1, maxRssBytes: MiB, maxRequests: 1, ttlMs: 1, shouldRecycle: () => "x" },
      "unhealthy",
    ],
    [
      "memory beats max-requests",
      { memoryBytes: 2 * MiB },
      { maxRssBytes: MiB, maxRequests: 1, ttlMs: 1 },
      "memory",
    ],
    [
      "max-requests beats ttl",
      {},
      { maxRequests: 1, ttlMs: 1, shouldRecycle: () => "x" },
      "max-requests",
    ],
    ["ttl beats custom", {}, { ttlMs: 1, shouldRecycle: () => "x" }, "ttl"],
  ])("%s", (_title, facts, policy, reason, detail) => {
    validateRecyclePolicy(policy);
    const decision = decideRecycle({ ...base, ...facts }, policy, NOW);
    expect(decision.workerId).toBe("w1");
    if (reason === false) {
      expect(decision).toEqual({ workerId: "w1", recycle: false });
    } else {
      expect(decision).toMatchObject({ recycle: true, reason });
      if (detail !== undefined) expect(decision).toMatchObject({ detail });
    }
  });

  it("derives a stable per-worker limit from the id when the caller fixed none", () => {
    const policy = { maxRequests: 100, maxRequestsJitter: 50 };
    const limits = ["a", "b", "c", "d", "e", "f"].map((id) => {
      let calls = 0;
      while (!decideRecycle({ ...base, workerId: id, callsServed: calls }, policy, NOW).recycle)
        calls++;
      return calls;
    });
    for (const limit of limits) expect(limit).toBeGreaterThanOrEqual(100);
    for (const limit of limits) expect(limit).toBeLessThanOrEqual(150);
    expect(new Set(limits).size).toBeGreaterThan(1);
    expect(workerRandom("a")).toBe(workerRandom("a"));
  });
});

describe("resolveMaxRequests", () => {
  it("is undefined without maxRequests and exact without jitter", () => {
    expect(resolveMaxRequests({})).toBeUndefined();
    expect(resolveMaxRequests({ maxRequests: 50 })).toBe(50);
  });

  it.each([0, 0.5, 0.999_999_999_9, 1, -1])("stays in bounds for random() = %d", (r) => {
    const limit = resolveMaxRequests({ maxRequests: 50, maxRequestsJitter: 10 }, () => r);
    expect(limit).toBeGreaterThanOrEqual(50);
    expect(limit).toBeLessThanOrEqual(60);
  });

  it("spreads 10,000 draws over every value of [max, max + jitter] and nothing else", () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      const limit = resolveMaxRequests({ maxRequests: 50, maxRequestsJitter: 10 }) ?? -1;
      counts.set(limit, (counts.get(limit) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([
      50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60,
    ]);
    // uniform: each of 11 values expects ~909; allow a wide margin
    for (const n of counts.values()) expect(n).toBeGreaterThan(700);
  });
});

describe("validateRecyclePolicy", () => {
  it.each([
    [{ ttlMs: 0 }, "recycle.ttlMs"],
    [{ maxRequests: 1.5 }, "recycle.maxRequests"],
    [{ maxRequests: 5, maxRequestsJitter: -1 }, "recycle.maxRequestsJitter"],
    [{ maxRequestsJitter: 5 }, "recycle.maxRequestsJitter"],
    [{ maxRssBytes: "1G" }, "recycle.maxRssBytes"],
    [{ unhealthyAfter: 0 }, "recycle.unhealthyAfter"],
    [{ shouldRecycle: "yes" }, "recycle.shouldRecycle"],
    [{ maxRssMb: 100 }, "recycle.maxRssMb"],
  ])("rejects %j naming %s", (policy, option) => {
    expect(() => validateRecyclePolicy(policy as never)).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTIONS",
        details: expect.objectContaining({ option }),
      }),
    );
  });
});
