import { SnakepitError } from "@snakepit/errors";
import type { ExecuteOptions } from "./pool-types.js";

/** A call waiting for a worker, then running on it. */
export interface PendingCall {
  readonly id: string;
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>> | undefined;
  readonly options: ExecuteOptions;
  readonly correlationId: string;
  /** `performance.now()` when the call was queued. */
  readonly enqueuedAt: number;
  /**
   * The call's own RPC signal, only when it needs one (a caller's signal or a deadline); other
   * calls share their worker's signal. Set when granted a worker.
   */
  controller?: AbortController;
  /** Why the running call was cancelled (deadline, caller's abort, worker crash or stop): the error it fails with. */
  abortReason?: SnakepitError;
}

interface Waiter<Slot> {
  readonly call: PendingCall;
  grant(slot: Slot): void;
  reject(error: SnakepitError): void;
}

/** Options of {@link CallQueue.wait}. */
export interface WaitOptions {
  /** Fail the wait with `QUEUE_TIMEOUT` after this many milliseconds; 0 means never. */
  readonly timeoutMs: number;
  /** Called when the wait times out, before the rejection. */
  readonly onTimeout?: () => void;
}

/**
 * The pool's bounded FIFO of calls waiting for a worker. A call leaves it when granted a worker,
 * when its caller aborts (`ABORTED`, or the caller's own `SnakepitError` reason), when it waited
 * longer than its queue timeout (`QUEUE_TIMEOUT`; the timer is cleared the moment the call
 * leaves, so a served call never sees a stale timeout), or when the pool fails everything waiting.
 */
export class CallQueue<Slot> {
  readonly #waiters: Waiter<Slot>[] = [];
  readonly #maxSize: number;

  /** @param maxSize calls that may wait at once; more fail fast with `QUEUE_FULL`. */
  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  get size(): number {
    return this.#waiters.length;
  }

  /** True when another call would be rejected with `QUEUE_FULL`. */
  get full(): boolean {
    return this.#waiters.length >= this.#maxSize;
  }

  /** Waits for a worker for `call`; resolves with the worker `grantNext` hands it. */
  wait(call: PendingCall, options: WaitOptions): Promise<Slot> {
    return new Promise<Slot>((resolve, reject) => {
      const signal = call.options.signal;
      let timer: NodeJS.Timeout | undefined;
      const leave = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        leave();
        reject(abortError(call));
      };
      const waiter: Waiter<Slot> = {
        call,
        grant: (slot) => {
          leave();
          resolve(slot);
        },
        reject: (error) => {
          leave();
          reject(error);
        },
      };
      if (options.timeoutMs > 0) {
        timer = setTimeout(() => {
          options.onTimeout?.();
          waiter.reject(
            new SnakepitError(
              "QUEUE_TIMEOUT",
              `Call "${call.tool}" waited ${options.timeoutMs} ms for a worker`,
              { details: { queueTimeoutMs: options.timeoutMs } },
            ),
          );
        }, options.timeoutMs);
        timer.unref();
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Grants `slot` to the oldest waiting call that `eligible` accepts; returns it, or undefined. */
  grantNext(slot: Slot, eligible: (call: PendingCall) => boolean): PendingCall | undefined {
    const waiter = this.#waiters.find((w) => eligible(w.call));
    waiter?.grant(slot);
    return waiter?.call;
  }

  /** Fails every waiting call that `match` selects (default: all) with `error`. */
  rejectAll(error: SnakepitError, match: (call: PendingCall) => boolean = () => true): void {
    for (const waiter of this.#waiters.filter((w) => match(w.call))) waiter.reject(error);
  }
}

/** The error a call fails with when its caller's signal aborts: the caller's own `SnakepitError`, or `ABORTED`. */
export function abortError(call: PendingCall): SnakepitError {
  const reason: unknown = call.options.signal?.reason;
  return reason instanceof SnakepitError
    ? reason
    : new SnakepitError("ABORTED", `Call "${call.tool}" was aborted`, { cause: reason });
}
