import { describe, expect, it } from "vitest";
import { MAX_BACKOFF_MS, restartDelayMs } from "./restart-backoff.js";

describe("restartDelayMs", () => {
  it.each([
    [0, 0],
    [1, 100],
    [2, 200],
    [3, 400],
    [9, 25_600],
    [10, MAX_BACKOFF_MS],
    [1000, MAX_BACKOFF_MS],
  ])("a streak of %i waits %i ms", (streak, ms) => {
    expect(restartDelayMs(streak)).toBe(ms);
  });
});
