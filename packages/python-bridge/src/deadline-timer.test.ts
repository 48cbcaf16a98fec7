import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineTimer } from "./deadline-timer.js";

// Pure: fake time only. A model of a connection's calls: deadlines pending, the ones ended.
function model() {
  const pending = new Set<number>();
  const ended: Array<[deadline: number, at: number]> = [];
  const timer = new DeadlineTimer((now) => {
    let next = 0;
    for (const d of [...pending])
      if (d <= now + 1) {
        pending.delete(d);
        ended.push([d, now]);
      } else if (next === 0 || d < next) next = d;
    return next;
  });
  const add = (d: number) => {
    pending.add(d);
    timer.schedule(d);
  };
  return { timer, pending, ended, add };
}

describe("DeadlineTimer", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("uses one timer for many deadlines, fires at each in order, and stops when none is left", () => {
    const { timer, ended, add } = model();
    for (const d of [300, 100, 200, 100.5]) add(d);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(ended).toEqual([]);
    vi.advanceTimersByTime(1);
    // Deadlines within 1 ms of each other end together.
    expect(ended.map(([d]) => d)).toEqual([100, 100.5]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    vi.advanceTimersByTime(100);
    expect(ended.map(([d]) => d)).toEqual([100, 100.5, 200, 300]);
    for (const [d, at] of ended) expect(at).toBeGreaterThanOrEqual(d - 1);
    expect(timer.armed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("an earlier deadline re-arms it; a later one leaves it alone", () => {
    const { ended, add } = model();
    add(500);
    add(50);
    // Later than the one armed: it must not push the 50 ms deadline back.
    add(800);
    vi.advanceTimersByTime(50);
    expect(ended).toEqual([[50, 50]]);
    vi.advanceTimersByTime(449);
    expect(ended).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(ended.map(([d]) => d)).toEqual([50, 500]);
  });

  it("a deadline already past fires on the next turn; clear() drops everything pending", () => {
    const { timer, ended, add, pending } = model();
    vi.advanceTimersByTime(1000);
    add(10);
    add(2000);
    vi.advanceTimersByTime(0);
    expect(ended.map(([d]) => d)).toEqual([10]);
    timer.clear();
    expect(timer.armed).toBe(false);
    vi.advanceTimersByTime(5000);
    expect(ended).toHaveLength(1);
    expect(pending.has(2000)).toBe(true);
  });

  it("never keeps the process alive (its timer is unref'd)", () => {
    vi.useRealTimers();
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const { timer, add } = model();
    add(performance.now() + 60_000);
    expect(timer.armed).toBe(true);
    const handle = setTimeoutSpy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    timer.clear();
    setTimeoutSpy.mockRestore();
  });
});
