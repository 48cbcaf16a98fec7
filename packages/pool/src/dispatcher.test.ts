import type { SnakepitError } from "@snakepit/errors";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PendingCall } from "./call-queue.js";
import { Dispatcher, type DispatcherOptions } from "./dispatcher.js";
import { readyWorkers } from "./fake-worker.test-helper.js";
import type { ExecuteOptions } from "./pool-types.js";
import { SessionAffinity } from "./session-affinity.js";
import type { WorkerSlot } from "./worker-slot.js";

type Worker = WorkerSlot<PendingCall>;

function setup(count: number, options: Partial<DispatcherOptions> & { capacity?: number } = {}) {
  const { set, workers } = readyWorkers(count, options.capacity ?? 1);
  const dispatcher = new Dispatcher({
    pool: "p",
    maxQueue: 100,
    queueTimeoutMs: 0,
    affinity: "hint",
    workers: set,
    sessions: new SessionAffinity(),
    refusal: () => undefined,
    ...options,
  });
  /** Starts a call; `granted` records which worker it got, in grant order. */
  const granted: Array<[string, Worker]> = [];
  const start = (name: string, opts: ExecuteOptions = {}) => {
    const call = dispatcher.newCall(name, undefined, opts);
    let got: Worker | Promise<Worker>;
    try {
      got = dispatcher.acquire(call);
    } catch (err) {
      return Promise.reject(err);
    }
    const record = (w: Worker) => {
      granted.push([name, w]);
      return { call, worker: w };
    };
    return got instanceof Promise ? got.then(record) : Promise.resolve(record(got));
  };
  return { set, workers, dispatcher, start, granted };
}

async function error(promise: Promise<unknown>): Promise<SnakepitError> {
  try {
    await promise;
  } catch (err) {
    return err as SnakepitError;
  }
  throw new Error("expected a rejection");
}

afterEach(() => vi.useRealTimers());

describe("Dispatcher", () => {
  it("grants a free worker at once, without a promise", () => {
    const { dispatcher, workers } = setup(1);
    const call = dispatcher.newCall("t", undefined, {});
    expect(dispatcher.acquire(call)).toBe(workers[0]);
  });

  it("FIFO: calls beyond capacity are served in the order they came", async () => {
    const { dispatcher, start, granted } = setup(1);
    const first = await start("c0");
    const waiting = [1, 2, 3, 4].map((i) => start(`c${i}`));
    expect(dispatcher.queueSize).toBe(4);
    let current = first;
    for (let i = 1; i <= 4; i++) {
      dispatcher.release(current.worker, current.call);
      current = await (waiting[i - 1] as Promise<typeof first>);
    }
    expect(granted.map(([name]) => name)).toEqual(["c0", "c1", "c2", "c3", "c4"]);
  });

  it("a new call goes to the idle worker that finished last (warm), not the one idle longest", async () => {
    const { dispatcher, start, workers } = setup(3);
    const [a, b, c] = workers as [Worker, Worker, Worker];
    const first = await start("1");
    const second = await start("2");
    const third = await start("3");
    expect([first.worker, second.worker, third.worker]).toEqual([c, b, a]);
    dispatcher.release(b, second.call);
    dispatcher.release(a, third.call);
    expect((await start("4")).worker).toBe(a);
    expect((await start("5")).worker).toBe(b);
  });

  it("QUEUE_FULL: a call that would wait beyond maxQueue fails at once", async () => {
    const { start } = setup(1, { maxQueue: 1 });
    await start("run");
    void start("queued");
    expect((await error(start("over"))).code).toBe("QUEUE_FULL");
  });

  it("QUEUE_TIMEOUT after queueTimeoutMs of waiting; the queue is empty after", async () => {
    vi.useFakeTimers();
    const { dispatcher, start } = setup(1, { queueTimeoutMs: 200 });
    await start("run");
    const waiting = error(start("late"));
    vi.advanceTimersByTime(199);
    expect(dispatcher.queueSize).toBe(1);
    vi.advanceTimersByTime(1);
    expect((await waiting).code).toBe("QUEUE_TIMEOUT");
    expect(dispatcher.queueSize).toBe(0);
  });

  it("a served call never sees its queue timeout", async () => {
    vi.useFakeTimers();
    const { dispatcher, start } = setup(1, { queueTimeoutMs: 200 });
    const first = await start("run");
    const waiting = start("next");
    dispatcher.release(first.worker, first.call);
    vi.advanceTimersByTime(1000);
    expect((await waiting).worker).toBe(first.worker);
  });

  it("ABORTED: a queued call whose signal aborts leaves the queue", async () => {
    const { dispatcher, start } = setup(1);
    await start("run");
    const controller = new AbortController();
    const waiting = error(start("queued", { signal: controller.signal }));
    controller.abort();
    expect((await waiting).code).toBe("ABORTED");
    expect(dispatcher.queueSize).toBe(0);
  });

  it("SESSION_BUSY: strict-fail-fast with the session's worker busy", async () => {
    const { start } = setup(2);
    await start("bind", { sessionId: "s" });
    expect(
      (await error(start("again", { sessionId: "s", affinity: "strict-fail-fast" }))).code,
    ).toBe("SESSION_BUSY");
  });

  it("strict-queue waits for the session's worker even though another is free", async () => {
    const { dispatcher, start, workers } = setup(2);
    const bound = await start("bind", { sessionId: "s" });
    let got: Worker | undefined;
    void start("strict", { sessionId: "s", affinity: "strict-queue" }).then((g) => {
      got = g.worker;
    });
    // An unrelated call takes the free worker; the strict call still waits.
    expect((await start("other")).worker).toBe(workers.find((w) => w !== bound.worker));
    await Promise.resolve();
    expect(got).toBeUndefined();
    dispatcher.release(bound.worker, bound.call);
    await new Promise((r) => setImmediate(r));
    expect(got).toBe(bound.worker);
  });

  it("hint: a waiting session call takes its own worker first when it frees, before older calls", async () => {
    const { dispatcher, start, granted } = setup(1);
    const bound = await start("bind", { sessionId: "s" });
    void start("older");
    void start("session", { sessionId: "s" });
    dispatcher.release(bound.worker, bound.call);
    await new Promise((r) => setImmediate(r));
    expect(granted.map(([n]) => n)).toEqual(["bind", "session"]);
  });

  it("strict calls bound to a worker that stops serving run anywhere", async () => {
    const { dispatcher, start, set } = setup(2);
    // a: the session's worker; b: the other one.
    const a = (await start("bind", { sessionId: "s" })).worker;
    const other = await start("busy-b");
    const b = other.worker;
    const strict = start("strict", { sessionId: "s", affinity: "strict-queue" });
    dispatcher.release(b, other.call);
    await new Promise((r) => setImmediate(r));
    expect(dispatcher.queueSize).toBe(1);
    set.transition(a, { kind: "stopping", reason: "unhealthy" });
    dispatcher.fillAll(a);
    expect((await strict).worker).toBe(b);
  });

  it("the pool's refusal fails a new call at once", async () => {
    const { dispatcher } = setup(1, {
      refusal: () => new (class extends Error {})() as never,
    });
    expect(() => dispatcher.acquire(dispatcher.newCall("t", undefined, {}))).toThrow();
  });

  it("INVALID_ARGUMENTS for an empty tool name", () => {
    const { dispatcher } = setup(1);
    expect(() => dispatcher.newCall("", undefined, {})).toThrow(/non-empty string/);
  });

  it("whenDrained waits for queued and running calls", async () => {
    const { dispatcher, start } = setup(1);
    const first = await start("a");
    const second = start("b");
    let drained = false;
    void dispatcher.whenDrained().then(() => {
      drained = true;
    });
    dispatcher.release(first.worker, first.call);
    const s = await second;
    await Promise.resolve();
    expect(drained).toBe(false);
    dispatcher.release(s.worker, s.call);
    await Promise.resolve();
    expect(drained).toBe(true);
  });
});
