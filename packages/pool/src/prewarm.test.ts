import { describe, expect, it } from "vitest";
import { prewarmLeadCalls, shouldPrewarm } from "./prewarm.js";

describe("prewarm arithmetic", () => {
  it.each([
    // dispatched, uptime ms, start ms → calls expected during one start (×1.5)
    [10, 1000, 300, 5], // 10 calls/s: 3 calls per start, ×1.5
    [1, 100, 300, 2], // one early call: the rate counts over one start time at least
    [100, 250, 300, 150], // a fast worker: 100 calls per start time
    [0, 0, 300, 0],
    [5, 1000, 0, 0], // start time unknown yet: no lead
  ])(
    "%i calls in %i ms, starts of %i ms → lead of %i calls",
    (dispatched, uptimeMs, startMs, lead) => {
      expect(prewarmLeadCalls({ dispatched, uptimeMs, startMs })).toBe(lead);
    },
  );

  it("short calls arriving slowly do not start a successor at the first call (issue 14)", () => {
    // 1 ms calls, one every 100 ms, 300 ms starts, limit 50: the old estimate (start ÷ run time)
    // came out as 300 calls ahead, i.e. at call 1.
    const at = (n: number) =>
      shouldPrewarm({ dispatched: n, limit: 50, uptimeMs: n * 100, startMs: 300 });
    expect(at(1)).toBe(false);
    expect(at(44)).toBe(false);
    expect(at(45)).toBe(true);
  });

  it("a worker faster than a start prewarms early enough to have its successor ready", () => {
    // 1 call per ms, 300 ms starts, limit 500: the successor must start by call 200 (t = 200 ms)
    // to be ready at t = 500 ms, when the worker reaches its limit.
    const first = Array.from({ length: 500 }, (_, i) => i + 1).find((n) =>
      shouldPrewarm({ dispatched: n, limit: 500, uptimeMs: n, startMs: 300 }),
    );
    expect((first ?? 500) + 300).toBeLessThanOrEqual(500);
  });
});
