import { SnakepitError } from "@snakepit/errors";
import type { Lease } from "./call-lease.js";
import type { PendingCall } from "./call-queue.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Logger } from "./logger.js";
import type { WorkerSlot } from "./worker-slot.js";

// Errors after which an idempotent call may run again on another worker.
const RETRYABLE = new Set(["WORKER_CRASHED", "WORKER_UNHEALTHY"]);

/** What running a call needs: a worker from the dispatcher, a lease on it. */
export interface CallRunnerOptions {
  readonly dispatcher: Dispatcher;
  readonly lease: (call: PendingCall, worker: WorkerSlot<PendingCall>) => Lease;
  /** Times an idempotent call runs again after its worker crashed or hung. */
  readonly retries: number;
  readonly log: Logger;
}

/**
 * A promise that rejects with `err` on a later turn of the event loop. Every call that fails
 * without waiting for anything (pool closed or degraded, `QUEUE_FULL`, `SESSION_BUSY`, a bad
 * argument) is delivered this way, so a caller that retries at once in a loop still lets timers
 * and I/O run — the worker restarts it may be waiting for among them.
 */
export function rejectLater<T>(err: unknown): Promise<T> {
  return new Promise<T>((_, reject) => setImmediate(reject, err));
}

/** Runs one call to its end: a worker (at once or after a wait), the RPC, the lease returned. */
export async function executeOnce<T>(o: CallRunnerOptions, call: PendingCall): Promise<T> {
  let acquired: ReturnType<Dispatcher["acquire"]>;
  try {
    acquired = o.dispatcher.acquire(call);
  } catch (err) {
    return rejectLater(err);
  }
  // No await (and no extra turn of the microtask queue) when a worker was free at once.
  const lease = o.lease(call, acquired instanceof Promise ? await acquired : acquired);
  try {
    const result = await lease.proc.client.execute<T>(call.tool, call.args, lease.rpc);
    lease.succeed(result.durationMs);
    return result.value;
  } catch (err) {
    const error = await lease.fail(err);
    if (call.neverStarted === true && call.options.signal?.aborted !== true) {
      o.log.info(
        { tool: call.tool, callId: call.id },
        "dispatching again a call that waited behind a stuck one",
      );
      return executeOnce<T>(o, again(call));
    }
    throw error;
  }
}

/** The same call, ready to be dispatched again (same ids; its deadline starts over). */
function again(call: PendingCall): PendingCall {
  return {
    id: call.id,
    tool: call.tool,
    args: call.args,
    options: call.options,
    correlationId: call.correlationId,
    enqueuedAt: 0,
    heldAt: -1,
  };
}

/** `execute` of an idempotent call: runs it again on another worker after a crash or hang. */
export async function executeWithRetries<T>(
  o: CallRunnerOptions,
  makeCall: () => PendingCall,
  tool: string,
): Promise<T> {
  let attempts = 1 + o.retries;
  for (;;) {
    let call: PendingCall;
    try {
      call = makeCall();
    } catch (err) {
      return rejectLater(err);
    }
    try {
      return await executeOnce<T>(o, call);
    } catch (err) {
      const error = SnakepitError.from(err);
      if (--attempts <= 0 || !RETRYABLE.has(error.code)) throw error;
      o.log.warn({ tool, code: error.code }, "retrying an idempotent call on another worker");
    }
  }
}

/** Runs a generator tool, yielding its chunks; breaking out of the loop cancels the call. */
export async function* streamCall<T>(
  o: CallRunnerOptions,
  makeCall: () => PendingCall,
): AsyncGenerator<T, void, undefined> {
  let call: PendingCall;
  let acquired: ReturnType<Dispatcher["acquire"]>;
  try {
    call = makeCall();
    acquired = o.dispatcher.acquire(call);
  } catch (err) {
    await rejectLater(err);
    return;
  }
  const lease = o.lease(call, await acquired);
  try {
    // Breaking out of the consumer's loop returns this generator, whose loop returns the
    // client's stream, which cancels the RPC and so closes the Python generator.
    yield* lease.proc.client.executeStream<T>(call.tool, call.args, lease.rpc);
    lease.succeed();
  } catch (err) {
    throw await lease.fail(err);
  } finally {
    // The consumer broke out of its loop: not a failure of the call.
    lease.succeed();
  }
}
