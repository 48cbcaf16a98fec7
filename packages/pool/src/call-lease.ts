import { performance } from "node:perf_hooks";
import type { TracerProvider } from "@opentelemetry/api";
import { SnakepitError } from "@snakepit/errors";
import type { ExecuteRpcOptions, WorkerProcess } from "@snakepit/python-bridge";
import {
  type CallSpan,
  hasSubscribers,
  publish,
  startCallSpan,
} from "@snakepit/telemetry/internal";
import { abortError, type PendingCall } from "./call-queue.js";
import type { PoolStatsRecorder } from "./pool-stats.js";
import type { WorkerSlot } from "./worker-slot.js";

type Worker = WorkerSlot<PendingCall>;

/** A worker leased to one call. */
export interface Lease {
  readonly worker: Worker;
  readonly proc: WorkerProcess;
  readonly rpc: ExecuteRpcOptions;
  /** Returns the worker after a success (`toolMs`: the tool's running time Python reported, if any). */
  succeed(toolMs?: number): void;
  /** Returns the worker after a failure, and maps the failure to the error the caller gets. */
  fail(err: unknown): Promise<SnakepitError>;
}

/** What a lease needs from its pool. */
export interface CallLeaseOptions {
  readonly pool: string;
  /** Where call spans go; default the global provider. */
  readonly tracerProvider: TracerProvider | undefined;
  /** The pool's default deadline, in ms from dispatch; 0 means none. */
  readonly timeoutMs: number;
  /** How long a cancelled call's worker may take to let go of it before it counts as stuck. */
  readonly cancelGraceMs: number;
  readonly stats: PoolStatsRecorder;
  /** Calls waiting for a worker now (for events). */
  readonly queueDepth: () => number;
  /**
   * Frees the room the call held on its worker; `toolMs` is how long the tool ran there, when
   * known (it shapes the worker's pipeline window: see `QUICK_CALL_MS`).
   */
  readonly release: (worker: Worker, call: PendingCall, toolMs?: number) => void;
  /** Counts a call cancelled while running in or out of its worker's `cancelling` (see WorkerSet.setCancelling). */
  readonly setCancelling?: (worker: Worker, cancelling: boolean) => void;
  /** Stops a worker that kept running a cancelled call (a replacement starts). */
  readonly stopStuck: (worker: Worker, error: SnakepitError) => void;
  /** Stops a worker whose connection broke the wire protocol (a replacement starts). */
  readonly stopUnhealthy?: (worker: Worker, error: SnakepitError) => void;
}

// A crashing worker's socket can close a few ms before its exit is reported; wait this long for
// the exit before calling a transport failure a transport failure.
export const CRASH_SETTLE_MS = 1000;

/**
 * Cancels one running call: it fails with `error`. The first reason wins — a deadline, the
 * caller's abort, the worker's crash or stop, whichever comes first names the failure.
 */
export function abortCall(call: PendingCall, error: SnakepitError): void {
  if (call.abortReason !== undefined) return;
  call.abortReason = error;
  call.controller?.abort(error);
}

/** Cancels every call held by a worker that crashed or is being stopped. */
export function abortCalls(worker: Worker, errorFor: (call: PendingCall) => SnakepitError): void {
  for (const call of worker.inFlight) abortCall(call, errorFor(call));
  // The calls without a signal of their own listen on the worker's.
  worker.abortCalls();
}

/**
 * The error a failed RPC becomes: the abort reason when the call was cancelled (it names the
 * cause better than the transport's status), else the RPC's own error.
 */
export function leaseError(call: PendingCall, err: unknown): SnakepitError {
  return call.abortReason ?? SnakepitError.from(err, "INTERNAL");
}

/**
 * Leases `worker` (the call is already booked there) to `call`: its deadline (counted from
 * dispatch), the caller's signal, the span and events. A call with neither deadline nor signal
 * gets no AbortController and no timer: it shares its worker's signal.
 */
export function leaseWorker(o: CallLeaseOptions, call: PendingCall, worker: Worker): Lease {
  return new CallLease(o, call, worker);
}

/**
 * The lease of one call, which is also the options of its RPC (one object per call rather than a
 * lease, its RPC options and a closure per method).
 */
class CallLease implements Lease, ExecuteRpcOptions {
  readonly worker: Worker;
  readonly proc: WorkerProcess;
  readonly signal: AbortSignal;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  readonly correlationId: string;
  readonly callId: string;
  readonly sessionId: string | undefined;
  readonly callMetadata: Readonly<Record<string, string>> | undefined;
  readonly timeoutMs: number | undefined;
  readonly #o: CallLeaseOptions;
  readonly #call: PendingCall;
  readonly #dispatchedAt: number;
  readonly #span: CallSpan;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onAbort: (() => void) | undefined;
  #finished = false;

  constructor(o: CallLeaseOptions, call: PendingCall, worker: Worker) {
    const dispatchedAt = performance.now();
    const waitMs = call.enqueuedAt === 0 ? 0 : dispatchedAt - call.enqueuedAt;
    o.stats.recordWait(waitMs);
    if (hasSubscribers("snakepit:queue:dequeued"))
      publish("snakepit:queue:dequeued", {
        pool: o.pool,
        tool: call.tool,
        callId: call.id,
        correlationId: call.correlationId,
        depth: o.queueDepth(),
        waitMs,
      });
    if (hasSubscribers("snakepit:call:start"))
      publish("snakepit:call:start", {
        pool: o.pool,
        tool: call.tool,
        callId: call.id,
        correlationId: call.correlationId,
        workerId: worker.id,
        waitMs,
      });
    const span = startCallSpan({
      pool: o.pool,
      tool: call.tool,
      workerId: worker.id,
      correlationId: call.correlationId,
      tracerProvider: o.tracerProvider,
    });
    const timeoutMs = call.options.timeoutMs ?? o.timeoutMs;
    const callerSignal = call.options.signal;
    let signal = worker.callSignal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    if (timeoutMs > 0 || callerSignal !== undefined) {
      const controller = new AbortController();
      call.controller = controller;
      signal = controller.signal;
      if (timeoutMs > 0) {
        timer = setTimeout(
          () =>
            abortCall(
              call,
              new SnakepitError(
                "CALL_TIMEOUT",
                `Call "${call.tool}" ran past its ${timeoutMs} ms deadline on worker ${worker.id}`,
                { details: { workerId: worker.id, timeoutMs } },
              ),
            ),
          timeoutMs,
        );
        timer.unref();
      }
      if (callerSignal !== undefined) {
        onAbort = () => abortCall(call, abortError(call));
        callerSignal.addEventListener("abort", onAbort, { once: true });
      }
    }
    this.worker = worker;
    this.proc = worker.process as WorkerProcess;
    this.signal = signal;
    this.metadata = span.carrier;
    this.correlationId = call.correlationId;
    this.callId = call.id;
    this.sessionId = call.options.sessionId;
    this.callMetadata = call.options.metadata;
    this.timeoutMs = timeoutMs > 0 ? timeoutMs : undefined;
    this.#o = o;
    this.#call = call;
    this.#dispatchedAt = dispatchedAt;
    this.#span = span;
    this.#timer = timer;
    this.#onAbort = onAbort;
  }

  get rpc(): ExecuteRpcOptions {
    return this;
  }

  succeed(toolMs?: number): void {
    this.#end(undefined, toolMs);
  }

  async fail(err: unknown): Promise<SnakepitError> {
    const call = this.#call;
    const proc = this.proc;
    if (
      call.abortReason === undefined &&
      SnakepitError.from(err).code === "TRANSPORT_ERROR" &&
      proc.exit === undefined
    ) {
      await Promise.race([
        proc.exited,
        new Promise((resolve) => setTimeout(resolve, CRASH_SETTLE_MS).unref()),
      ]);
    }
    const error = leaseError(call, err);
    // A worker that broke the wire protocol has lost its connection: replace it.
    if (error.code === "PROTOCOL_ERROR") this.#o.stopUnhealthy?.(this.worker, error);
    this.#end(error);
    return error;
  }

  #end(error: SnakepitError | undefined, toolMs?: number): void {
    if (this.#finished) return;
    this.#finished = true;
    const o = this.#o;
    const call = this.#call;
    const worker = this.worker;
    const durationMs = performance.now() - this.#dispatchedAt;
    o.stats.recordRun(durationMs, error === undefined);
    this.#span.end(error);
    if (error === undefined) {
      if (hasSubscribers("snakepit:call:end"))
        publish("snakepit:call:end", {
          pool: o.pool,
          tool: call.tool,
          callId: call.id,
          correlationId: call.correlationId,
          workerId: worker.id,
          durationMs,
        });
    } else
      publish("snakepit:call:error", () => ({
        pool: o.pool,
        tool: call.tool,
        callId: call.id,
        correlationId: call.correlationId,
        workerId: worker.id,
        durationMs,
        code: error.code,
      }));
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#onAbort !== undefined)
      call.options.signal?.removeEventListener("abort", this.#onAbort);
    // No abort() of the call's signal here: the RPC has ended and removed its listener, and
    // aborting without a reason builds a DOMException with a stack trace (~15 µs a call).
    worker.callsServed++;
    // A call cancelled while running keeps its place on the worker until Python has let go of it.
    if (error?.code === "CALL_TIMEOUT" || error?.code === "ABORTED") {
      o.setCancelling?.(worker, true);
      void awaitCancelled(o, worker, call).finally(() => {
        o.setCancelling?.(worker, false);
        // It ran at least until its deadline or abort: not a quick call.
        o.release(worker, call, durationMs);
      });
    } else o.release(worker, call, toolMs);
  }
}

/**
 * Stuck detection. After a running call was cancelled, polls the worker until it reports the
 * tool has stopped (its in-flight count drops), then frees the room; a worker still running it
 * after `cancelGraceMs` is stuck: it is killed and replaced, so one stuck tool never blocks the pool.
 */
async function awaitCancelled(
  o: CallLeaseOptions,
  worker: Worker,
  call: PendingCall,
): Promise<void> {
  const proc = worker.process;
  const deadline = performance.now() + o.cancelGraceMs;
  while (proc !== undefined && worker.state.kind === "ready") {
    const others = worker.inFlight.size - 1;
    const res = await proc.client.heartbeat(0n, { timeoutMs: 1000 }).catch(() => undefined);
    if (res !== undefined && res.inFlight <= others) return;
    if (performance.now() >= deadline) {
      // A sequential worker runs one call at a time: while it still runs this one, every other
      // call it holds is waiting, never started. They go back for another worker.
      if (worker.sequential)
        for (const other of worker.inFlight) if (other !== call) other.neverStarted = true;
      // Stopped first, so the room freed afterwards is not handed to a waiting call.
      o.stopStuck(
        worker,
        new SnakepitError(
          "WORKER_UNHEALTHY",
          `Worker ${worker.id} kept running "${call.tool}" ${o.cancelGraceMs} ms after it was cancelled`,
          { details: { workerId: worker.id, reason: "stuck" } },
        ),
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20).unref());
  }
}
