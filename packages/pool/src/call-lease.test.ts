import { SnakepitError } from "@snakepit/errors";
import { afterEach, describe, expect, it, vi } from "vitest";
import { abortCalls, type CallLeaseOptions, leaseWorker } from "./call-lease.js";
import type { PendingCall } from "./call-queue.js";
import { type FakeProcess, readyWorkers } from "./fake-worker.test-helper.js";
import { PoolStatsRecorder } from "./pool-stats.js";
import type { ExecuteOptions } from "./pool-types.js";
import type { WorkerSlot } from "./worker-slot.js";

afterEach(() => vi.useRealTimers());

function setup(callOptions: ExecuteOptions, poolTimeoutMs = 0) {
  const { set, workers } = readyWorkers(1);
  const [worker] = workers as [WorkerSlot<PendingCall>];
  const released: PendingCall[] = [];
  const stuck: SnakepitError[] = [];
  const options: CallLeaseOptions = {
    pool: "p",
    tracerProvider: undefined,
    timeoutMs: poolTimeoutMs,
    cancelGraceMs: 100,
    stats: new PoolStatsRecorder(),
    queueDepth: () => 0,
    release: (w, c) => {
      set.release(w, c);
      released.push(c);
    },
    stopStuck: (_w, e) => stuck.push(e),
  };
  const call: PendingCall = {
    id: "c1",
    tool: "t",
    args: undefined,
    options: callOptions,
    correlationId: "x",
    enqueuedAt: performance.now(),
    heldAt: -1,
  };
  set.book(worker, call);
  const lease = leaseWorker(options, call, worker);
  const proc = worker.process as FakeProcess;
  const result = lease.proc.client
    .execute("t", undefined, lease.rpc)
    .then(
      (r) => {
        lease.succeed();
        return r.value;
      },
      async (err: unknown) => {
        throw await lease.fail(err);
      },
    )
    .catch((e: unknown) => e as SnakepitError);
  return { worker, proc, lease, result, released, stuck, call };
}

describe("the call lease", () => {
  it("a call with neither deadline nor signal shares its worker's signal (no controller, no timer)", () => {
    const { lease, worker, call } = setup({});
    expect(lease.rpc.signal).toBe(worker.callSignal);
    expect(call.controller).toBeUndefined();
  });

  it("deadline: CALL_TIMEOUT after timeoutMs, counted from dispatch", async () => {
    vi.useFakeTimers();
    const { result } = setup({ timeoutMs: 50 });
    vi.advanceTimersByTime(50);
    expect(await result).toMatchObject({ code: "CALL_TIMEOUT" });
  });

  it("the pool's timeoutMs applies when the call has none; the call's own wins", async () => {
    vi.useFakeTimers();
    const { lease } = setup({ timeoutMs: 0 }, 500);
    expect(lease.rpc.timeoutMs).toBeUndefined();
    const other = setup({}, 500);
    expect(other.lease.rpc.timeoutMs).toBe(500);
  });

  it.each([
    ["deadline then abort", ["deadline", "abort", "crash"], "CALL_TIMEOUT"],
    ["abort then deadline", ["abort", "deadline", "crash"], "ABORTED"],
    ["crash then deadline", ["crash", "deadline", "abort"], "WORKER_CRASHED"],
    ["crash then abort", ["crash", "abort"], "WORKER_CRASHED"],
  ])("%s: the first reason wins (%s)", async (_name, order, code) => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const { result, worker } = setup({ timeoutMs: 100, signal: controller.signal });
    for (const step of order) {
      if (step === "deadline") vi.advanceTimersByTime(100);
      else if (step === "abort") controller.abort();
      else abortCalls(worker, () => new SnakepitError("WORKER_CRASHED", "the worker died"));
    }
    vi.useRealTimers();
    expect(await result).toMatchObject({ code });
  });

  it("a caller's SnakepitError reason is kept as the rejection", async () => {
    const controller = new AbortController();
    const { result } = setup({ signal: controller.signal });
    controller.abort(new SnakepitError("POOL_CLOSED", "mine"));
    expect(await result).toMatchObject({ code: "POOL_CLOSED", message: "mine" });
  });

  it("a crash reaches a call with no signal of its own through the worker's signal", async () => {
    const { result, worker } = setup({});
    abortCalls(worker, () => new SnakepitError("WORKER_CRASHED", "gone"));
    expect(await result).toMatchObject({ code: "WORKER_CRASHED" });
  });

  it("a success frees the worker's room at once", async () => {
    const { proc, result, released, worker } = setup({});
    proc.rpcs[0]?.resolve(42);
    expect(await result).toBe(42);
    expect(released).toHaveLength(1);
    expect(worker.available).toBe(true);
    expect(worker.callsServed).toBe(1);
  });

  it("a cancelled call keeps its room until the worker reports it let go", async () => {
    const controller = new AbortController();
    const { proc, result, released, worker } = setup({ signal: controller.signal });
    proc.inFlight = 1;
    controller.abort();
    expect(await result).toMatchObject({ code: "ABORTED" });
    expect(released).toHaveLength(0);
    expect(worker.available).toBe(false);
    proc.inFlight = 0;
    await vi.waitFor(() => expect(released).toHaveLength(1));
  });

  it("stuck: a worker still running the cancelled call after cancelGraceMs is stopped", async () => {
    const controller = new AbortController();
    const { proc, result, released, stuck } = setup({ signal: controller.signal });
    proc.inFlight = 1;
    controller.abort();
    await result;
    await vi.waitFor(() => expect(stuck).toHaveLength(1), { timeout: 2000 });
    expect(stuck[0]?.code).toBe("WORKER_UNHEALTHY");
    expect(released).toHaveLength(1);
  });
});
