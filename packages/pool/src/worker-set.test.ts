import { describe, expect, it } from "vitest";
import type { PendingCall } from "./call-queue.js";
import { WorkerSet } from "./worker-set.js";
import type { WorkerSlot } from "./worker-slot.js";
import { QUICK_CALL_MS } from "./worker-slot.js";

const call = (id: string) => ({ id, heldAt: -1 }) as PendingCall;

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

  it("an idle worker comes before a busy one with room; among busy ones the one used last", () => {
    const { workers, list } = set(3, 4);
    const [a, b, c] = list;
    for (const w of list) workers.transition(w, { kind: "ready" });
    const first = call("1");
    workers.book(a, first);
    workers.book(b, call("2"));
    // a and b are busy with room left; c is idle though it was listed after them.
    expect(workers.nextWithRoom()).toBe(c);
    workers.book(c, call("3"));
    // One call each: the one given a call last comes first.
    expect(workers.withRoom()).toEqual([c, b, a]);
    // a finished its call: it is idle again, so it comes first.
    workers.release(a, first);
    expect(workers.withRoom()).toEqual([a, c, b]);
    expect(workers.nextWithRoom()).toBe(a);
    workers.book(a, call("4"));
    expect(workers.withRoom()).toEqual([a, c, b]);
  });

  it("among busy workers with room, the one holding the fewest calls goes first", () => {
    const { workers, list } = set(3, 3);
    const [a, b, c] = list;
    for (const w of list) workers.transition(w, { kind: "ready" });
    const held = new Map(list.map((w) => [w, [] as PendingCall[]]));
    const book = (w: W) => {
      const x = call(`${w.id}-${held.get(w)?.length}`);
      held.get(w)?.push(x);
      workers.book(w, x);
    };
    const release = (w: W) => workers.release(w, held.get(w)?.shift() as PendingCall);
    book(a);
    book(a);
    book(b);
    book(b);
    book(c);
    // a and b hold 2, c holds 1.
    expect(workers.nextWithRoom()).toBe(c);
    expect(workers.withRoom()).toEqual([c, b, a]);
    // The calls a burst of answers starts go back to the worker that answered, in one write.
    release(a);
    release(a);
    expect(workers.nextWithRoom()).toBe(a);
    book(a);
    // a and c hold 1 each: a was used last.
    expect(workers.withRoom()).toEqual([a, c, b]);
    book(a);
    book(c);
    book(c);
    // c is full (3 of 3): off every list; a and b hold 2, b was used longer ago.
    expect(workers.withRoom()).toEqual([a, b]);
    book(a);
    book(b);
    // Every worker full.
    expect(workers.nextWithRoom()).toBeUndefined();
    expect(workers.withRoom()).toEqual([]);
    // One answer gives b room again: the only one with room, however many calls it holds.
    release(b);
    expect(workers.nextWithRoom()).toBe(b);
    // A worker that stops serving leaves the lists with its calls.
    workers.transition(b, { kind: "draining", reason: "manual" });
    expect(workers.nextWithRoom()).toBeUndefined();
    release(c);
    expect(workers.nextWithRoom()).toBe(c);
  });

  it("picks what a scan of every worker would pick, over 20,000 random bookings and releases", () => {
    // A reference model: idle first (the one used last), else the fewest calls (the one used last).
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const workers = new WorkerSet<PendingCall>("p");
    const list = Array.from({ length: 6 }, (_, i) => workers.create(1 + (i % 4) * 3, undefined));
    for (const w of list) workers.transition(w, { kind: "ready" });
    const used = new Map<W, number>(list.map((w, i) => [w, i]));
    const held = new Map<W, PendingCall[]>(list.map((w) => [w, []]));
    const expected = () => {
      let best: W | undefined;
      for (const w of list) {
        if (w.inFlight.size >= w.capacity) continue;
        if (best === undefined) best = w;
        else {
          const [x, y] = [w.inFlight.size, best.inFlight.size];
          const idle = (n: number) => (n === 0 ? 0 : 1);
          const better =
            idle(x) < idle(y) ||
            (idle(x) === idle(y) &&
              (x < y || (x === y && (used.get(w) as number) > (used.get(best) as number))));
          if (better) best = w;
        }
      }
      return best;
    };
    for (let step = 0; step < 20_000; step++) {
      expect(workers.nextWithRoom()).toBe(expected());
      const busy = list.filter((w) => w.inFlight.size > 0);
      const next = workers.nextWithRoom();
      if (next !== undefined && (busy.length === 0 || random(3) !== 0)) {
        const x = call(`c${step}`);
        held.get(next)?.push(x);
        workers.book(next, x);
        used.set(next, 100 + step);
      } else {
        const w = busy[random(busy.length)] as W;
        const calls = held.get(w) as PendingCall[];
        workers.release(w, calls.splice(random(calls.length), 1)[0] as PendingCall);
        used.set(w, 100 + step);
      }
    }
    expect(workers.heldCount).toBe(list.reduce((n, w) => n + w.inFlight.size, 0));
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
    // Listed again just now: of two workers holding one call each, it was used last.
    expect(workers.withRoom()).toEqual([seq, threads]);
  });
});

describe("the adaptive pipeline window of a sequential worker (pipelineDepth left to its default)", () => {
  // Pure: the tools' running times are passed in (ms), no clock.
  it("holds its whole window while calls are quick, one call once they are not, and the window again once they are quick again", () => {
    const w = new WorkerSet<PendingCall>("p").create(4, undefined, true, true);
    w.transition({ kind: "ready" });
    // A new worker is not quick until its calls show it: three quick calls open its window.
    expect(w.window).toBe(1);
    for (const name of ["a", "b"]) {
      const c = call(name);
      w.book(c);
      w.finish(c, 0.01);
      expect(w.window).toBe(1);
    }
    const third = call("c");
    w.book(third);
    w.finish(third, 0.01);
    expect(w.window).toBe(4);
    // One slow call (50 ms): the window closes.
    const slow = call("slow");
    w.book(slow);
    w.finish(slow, 50);
    expect(w.callMs).toBeGreaterThan(QUICK_CALL_MS);
    expect(w.window).toBe(1);
    expect(w.available).toBe(true);
    w.book(call("x"));
    expect(w.available).toBe(false);
    // Quick calls bring the average back under QUICK_CALL_MS: the window opens again.
    w.finish([...w.inFlight][0] as PendingCall, 0.01);
    let quick = 1;
    while (w.callMs >= QUICK_CALL_MS) {
      const c = call("q");
      w.book(c);
      w.finish(c, 0.01);
      quick++;
    }
    // About nine quick calls after one of 50 ms (the newest weighs 1/4).
    expect(quick).toBeGreaterThanOrEqual(7);
    expect(quick).toBeLessThanOrEqual(10);
    expect(w.window).toBe(4);
  });

  it("a call whose running time is not known (it failed, it streamed) leaves the average alone", () => {
    const w = new WorkerSet<PendingCall>("p").create(4, undefined, true, true);
    const before = w.callMs;
    const c = call("failed");
    w.book(c);
    w.finish(c);
    w.book(c);
    w.finish(c, Number.NaN);
    expect(w.callMs).toBe(before);
  });

  it("a set unlists a worker whose window shrank below its calls, and lists it again when it has room", () => {
    const workers = new WorkerSet<PendingCall>("p");
    const w = workers.create(4, undefined, true, true);
    workers.transition(w, { kind: "ready" });
    w.callMs = 0;
    const calls = ["a", "b", "c"].map(call);
    for (const c of calls) workers.book(w, c);
    expect(workers.nextWithRoom()).toBe(w);
    // A slow call: the window is 1, the worker still holds 2.
    expect(workers.release(w, calls[0] as PendingCall, 50)).toBe(false);
    expect(workers.nextWithRoom()).toBeUndefined();
    expect(workers.release(w, calls[1] as PendingCall, 50)).toBe(false);
    // Idle now: room for one call.
    expect(workers.release(w, calls[2] as PendingCall, 50)).toBe(true);
    expect(workers.nextWithRoom()).toBe(w);
  });

  it("a thread-profile worker always has its whole capacity", () => {
    const w = new WorkerSet<PendingCall>("p").create(4, undefined, false, true);
    const c = call("slow");
    w.book(c);
    w.finish(c, 5000);
    expect(w.window).toBe(4);
  });

  it("a window set explicitly (pipelineDepth given) stays whole whatever the calls take", () => {
    const w = new WorkerSet<PendingCall>("p").create(4, undefined, true, false);
    const c = call("slow");
    w.book(c);
    w.finish(c, 5000);
    expect(w.window).toBe(4);
  });
});

describe("packing quick calls once as many workers are busy as there are cores", () => {
  /** `count` ready sequential workers with an adaptive window of 3, spread over `spreadOver`. */
  function quickSet(count: number, spreadOver: number, quick = true) {
    const workers = new WorkerSet<PendingCall>("p", spreadOver);
    const list = Array.from({ length: count }, () => {
      const w = workers.create(3, undefined, true, true);
      workers.transition(w, { kind: "ready" });
      if (quick) w.callMs = 0;
      return w;
    });
    return { workers, list: list as [W, W, W, W] };
  }
  const dispatch = (workers: WorkerSet<PendingCall>, n: number) =>
    Array.from({ length: n }, (_, i) => {
      const w = workers.nextWithRoom() as W;
      workers.book(w, call(`c${i}`));
      return w.id;
    });

  it("spreads over `spreadOver` idle workers, then fills the busy worker used last, then wakes another", () => {
    const { workers } = quickSet(4, 2);
    // Two cores: two workers one call each, then windows of 3 filled one worker at a time.
    expect(dispatch(workers, 8)).toEqual(["p-4", "p-3", "p-3", "p-3", "p-4", "p-4", "p-2", "p-2"]);
    expect(workers.busyCount).toBe(3);
  });

  it("never packs into a worker whose calls are not quick: one call per worker, as without windows", () => {
    const { workers } = quickSet(4, 1, false);
    expect(dispatch(workers, 4)).toEqual(["p-4", "p-3", "p-2", "p-1"]);
    expect(workers.nextWithRoom()).toBeUndefined();
  });

  it("with as many cores as workers, every idle worker is taken before any window", () => {
    const { workers } = quickSet(3, 3);
    expect(dispatch(workers, 4)).toEqual(["p-3", "p-2", "p-1", "p-1"]);
  });

  it("counts busy workers through booking, release and removal", () => {
    const { workers, list } = quickSet(2, 2);
    const [a, b] = list;
    const [x, y, z] = [call("x"), call("y"), call("z")];
    workers.book(a, x);
    workers.book(a, y);
    workers.book(b, z);
    expect(workers.busyCount).toBe(2);
    workers.release(a, x, 0.01);
    expect(workers.busyCount).toBe(2);
    workers.release(a, y, 0.01);
    expect(workers.busyCount).toBe(1);
    workers.transition(b, { kind: "exited", exit: undefined, expected: false });
    workers.delete(b);
    expect(workers.busyCount).toBe(0);
    // A call released after its worker left the set is not counted twice.
    workers.release(b, z);
    expect(workers.busyCount).toBe(0);
  });
});
