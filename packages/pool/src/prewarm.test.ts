import { describe, expect, it } from "vitest";
import { prewarmAt } from "./prewarm.js";

describe("prewarmAt", () => {
  it.each([
    // limit, start ms, avg run ms → call count at which the successor starts
    [50, 300, 100, 47],
    [50, 1000, 100, 40],
    [50, 300, 0, 49],
  ])("limit %i, start %i ms, calls of %i ms → at call %i", (limit, startMs, runMs, at) => {
    expect(prewarmAt(limit, startMs, runMs)).toBe(at);
  });
});
