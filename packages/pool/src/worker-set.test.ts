import { describe, expect, it } from "vitest";
import type { PendingCall } from "./call-queue.js";
import { WorkerSet } from "./worker-set.js";
import type { WorkerSlot } from "./worker-slot.js";
import { QUICK_CALL_MS } from "./worker-slot.js";

const call = (id: string) => ({ id }) as PendingCall;

type W = WorkerSlot<PendingCall>;

function set(count: number, capacity = 1) {
  const workers = new WorkerSet<PendingCall>("p");
  const list = Array.from({ length: count }, () => workers.create(capacity, undefined));
  return { workers, list: list as [W, W, W] };
}

describe("WorkerSet", () => {
  it("names workers <prefix>-1, -2 ... and counts the ready ones through transitions", () => {
    const { workers, list } = set(3);
    expect(list.map((w) => w.id)).toEqual(["p-1", "p-2", "p-3"]);
    expect(workers.readyCount).toBe(0);
    for (const w of list) workers.transition(w, { kind: "ready" });
    expect(workers.readyCount).toBe(3);
    workers.transition(list[0], { kind: "draining", reason: "manual" });
    expect(workers.readyCount).toBe(2);
    expect(workers.transition(list[0], { kind: "ready" })).toBe(false);
    workers.transition(list[1], { kind: "exited", exit: undefined, expected: false });
    workers.delete(list[1]);
    expect(workers.readyCount).toBe(1);
    expect(workers.size).toBe(2);
  });

  it("the idle worker used last comes first (warm); booking and releasing touch it", () => {
    const { workers, list } = set(3);
    const [a, b, c] = list as [(typeof list)[0], (typeof list)[0], (typeof list)[0]];
    for (const w of list) workers.transition(w, { kind: "ready" });
    expect(workers.withRoom().map((w) => w.id)).toEqual(["p-3", "p-2", "p-1"]);
    const cc = call("c");
    workers.book(c, cc);
    expect(workers.nextWithRoom()).toBe(b);
    workers.book(b, call("b"));
    workers.release(c, cc);
    // c has just finished: it goes before a, which has been idle all along.
    expect(workers.withRoom()).toEqual([c, a]);
    workers.touch(a);
    expect(workers.withRoom()).toEqual([a, c]);
  });

  it("a worker with capacity 2 stays listed until both places are taken", () => {
    const { workers, list } = set(1, 2);
    const w = list[0];
    workers.transition(w, { kind: "ready" });
    const [x, y] = [call("x"), call("y")];
    workers.book(w, x);
    expect(workers.nextWithRoom()).toBe(w);
    workers.book(w, y);
    expect(workers.nextWithRoom()).toBeUndefined();
    expect(workers.heldCount).toBe(2);
    expect(workers.release(w, x)).toBe(true);
    expect(workers.nextWithRoom()).toBe(w);
    expect(workers.heldCount).toBe(1);
  });

  it("a worker that is not ready is never listed, even with room", () => {
    const { workers, list } = set(2);
    workers.transition(list[1], { kind: "ready" });
    expect(workers.withRoom()).toEqual([list[1]]);
    workers.transition(list[1], { kind: "stopping", reason: "unhealthy" });
    expect(workers.withRoom()).toEqual([]);
  });

  it("an idle worker comes before a busy one with room; busy ones go in the order they were given calls", () => {
    const { workers, list } = set(3, 4);
    const [a, b, c] = list;
    for (const w of list) workers.transition(w, { kind: "ready" });
    const first = call("1");
    workers.book(a, first);
    workers.book(b, call("2"));
    // a and b are busy with room left; c is idle though it was listed after them.
    expect(workers.nextWithRoom()).toBe(c);
    workers.book(c, call("3"));
    expect(workers.withRoom()).toEqual([a, b, c]);
    // a finished its call: it is idle again, so it comes first.
    workers.release(a, first);
    expect(workers.withRoom()).toEqual([a, b, c]);
    expect(workers.nextWithRoom()).toBe(a);
    workers.book(a, call("4"));
    expect(workers.withRoom()).toEqual([b, c, a]);
  });

  it("a sequential worker still running a cancelled call takes no new call until it lets go", () => {
    const workers = new WorkerSet<PendingCall>("p");
    const seq = workers.create(4, undefined, true);
    const threads = workers.create(4, undefined, false);
    for (const w of [seq, threads]) workers.transition(w, { kind: "ready" });
    workers.book(seq, call("stuck"));
    workers.book(threads, call("stuck too"));
    workers.setCancelling(seq, true);
    workers.setCancelling(threads, true);
    // Only the thread-profile worker (its calls run side by side) still has room.
    expect(workers.withRoom()).toEqual([threads]);
    expect(seq.available).toBe(false);
    workers.setCancelling(seq, false);
    expect(workers.withRoom()).toEqual([threads, seq]);
  });
});

describe("the adaptive pipeline window of a sequential worker (pipelineDepth left to its default)", () => {
  // Pure: times are passed in (ms), no clock.
  it("holds its whole window while calls are quick, one call once they are not, and the window again once they are quick again", () => {
    const w = new WorkerSet<PendingCall>("p").create(4, undefined, true, true);
    w.transition({ kind: "ready" });
    // A new worker is not quick until its calls show it.
    expect(w.window).toBe(1);
    w.callMs = 0;
    expect(w.window).toBe(4);
    // Four quick calls back to back: each runs 0.1 ms after the one before.
    const calls = ["a", "b", "c", "d"].map(call);
    for (const c of calls) w.book(c, 0);
    calls.forEach((c, i) => {
      w.finish(c, 0.1 * (i + 1));
    });
    expect(w.callMs).toBeCloseTo(0.1 * (1 - 0.75 ** 4), 6);
    expect(w.window).toBe(4);
    // One slow call (50 ms from when the worker could start it): the window closes.
    const slow = call("slow");
    w.book(slow, 10);
    w.finish(slow, 60);
    expect(w.callMs).toBeGreaterThan(QUICK_CALL_MS);
    expect(w.window).toBe(1);
    expect(w.available).toBe(true);
    w.book(call("x"), 61);
    expect(w.available).toBe(false);
    // Quick calls bring the average back under QUICK_CALL_MS: the window opens again.
    let now = 61.1;
    w.finish([...w.inFlight][0] as PendingCall, now);
    while (w.callMs >= QUICK_CALL_MS) {
      const c = call("q");
      w.book(c, now);
      now += 0.1;
      w.finish(c, now);
    }
    expect(w.window).toBe(4);
  });

  it("measures a call from when the worker could start it: the end of the call before, or its dispatch to an idle worker", () => {
    const w = new WorkerSet<PendingCall>("p").create(4, undefined, true, true);
    w.callMs = 0;
    const [a, b] = [call("a"), call("b")];
    // b waited behind a: its 0.2 ms count from a's end, not from its own dispatch.
    w.book(a, 100);
    w.book(b, 100);
    w.finish(a, 100.2);
    w.finish(b, 100.4);
    expect(w.callMs).toBeCloseTo(0.2 * (1 - 0.75 ** 2), 6);
    // Idle for a second, then one call of 0.2 ms: the idle time does not count.
    const c = call("c");
    w.book(c, 1101);
    w.finish(c, 1101.2);
    expect(w.callMs).toBeCloseTo(0.2 * (1 - 0.75 ** 3), 6);
  });

  it("a set unlists a worker whose window shrank below its calls, and lists it again when it has room", () => {
    const workers = new WorkerSet<PendingCall>("p");
    const w = workers.create(4, undefined, true, true);
    workers.transition(w, { kind: "ready" });
    w.callMs = 0;
    const calls = ["a", "b", "c"].map(call);
    for (const c of calls) workers.book(w, c);
    expect(workers.nextWithRoom()).toBe(w);
    w.callMs = 5; // as after a slow call
    expect(workers.release(w, calls[0] as PendingCall)).toBe(false);
    expect(workers.nextWithRoom()).toBeUndefined();
    workers.release(w, calls[1] as PendingCall);
    w.callMs = 5;
    workers.release(w, calls[2] as PendingCall);
    w.callMs = 5;
    // Idle now: room for one call.
    expect(workers.nextWithRoom()).toBe(w);
  });

  it("a thread-profile worker always has its whole capacity", () => {
    const w = new WorkerSet<PendingCall>("p").create(4, undefined, false, true);
    const c = call("slow");
    w.book(c, 0);
    w.finish(c, 5000);
    expect(w.window).toBe(4);
  });

  it("a window set explicitly (pipelineDepth given) stays whole whatever the calls take", () => {
    const w = new WorkerSet<PendingCall>("p").create(4, undefined, true, false);
    const c = call("slow");
    w.book(c, 0);
    w.finish(c, 5000);
    expect(w.window).toBe(4);
  });
});
