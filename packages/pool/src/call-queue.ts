import { SnakepitError } from "@snakepit/errors";
import type { ExecuteOptions } from "./pool-types.js";

/** A call waiting for a worker, then running on it. */
export interface PendingCall {
  readonly id: string;
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>> | undefined;
  readonly options: ExecuteOptions;
  readonly correlationId: string;
  readonly enqueuedAt: number;
  /** Owns the running RPC; aborted with the reason the call fails with. Set when granted a worker. */
  controller?: AbortController;
}

interface Waiter<Slot> {
  readonly call: PendingCall;
  grant(slot: Slot): void;
  reject(error: SnakepitError): void;
}

/**
 * The pool's FIFO of calls waiting for a worker. A call leaves it when granted a worker, when
 * its caller aborts (the wait rejects with `ABORTED` or the caller's `SnakepitError` reason),
 * or when the pool fails everything waiting.
 */
export class CallQueue<Slot> {
  readonly #waiters: Waiter<Slot>[] = [];

  get size(): number {
    return this.#waiters.length;
  }

  /** Waits for a worker for `call`; resolves with the worker `grantNext` hands it. */
  wait(call: PendingCall): Promise<Slot> {
    return new Promise<Slot>((resolve, reject) => {
      const signal = call.options.signal;
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        reject(abortError(call));
      };
      const waiter: Waiter<Slot> = {
        call,
        grant: (slot) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(slot);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Grants `slot` to the oldest waiting call and returns that call, or undefined when none waits. */
  grantNext(slot: Slot): PendingCall | undefined {
    const waiter = this.#waiters.shift();
    waiter?.grant(slot);
    return waiter?.call;
  }

  /** Fails every waiting call with `error`. */
  rejectAll(error: SnakepitError): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}

/** The error a call fails with when its caller's signal aborts: the caller's own `SnakepitError`, or `ABORTED`. */
export function abortError(call: PendingCall): SnakepitError {
  const reason: unknown = call.options.signal?.reason;
  return reason instanceof SnakepitError
    ? reason
    : new SnakepitError("ABORTED", `Call "${call.tool}" was aborted`, { cause: reason });
}
