import { SnakepitError } from "@snakepit/errors";
import type { HeldCalls } from "./held-calls.js";
import type { ExecuteOptions } from "./pool-types.js";

/** A call waiting for a worker, then running on it. */
export interface PendingCall {
  readonly id: string;
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>> | undefined;
  readonly options: ExecuteOptions;
  readonly correlationId: string;
  /**
   * `performance.now()` when the call had to wait for a worker; 0 while it has not (a call that
   * finds a worker with room at once waits no time, and costs no clock read).
   */
  enqueuedAt: number;
  /**
   * The call's own RPC signal, only when it needs one (a caller's signal or a deadline); other
   * calls share their worker's signal. Set when granted a worker.
   */
  controller?: AbortController;
  /** Why the running call was cancelled (deadline, caller's abort, worker crash or stop): the error it fails with. */
  abortReason?: SnakepitError;
  /**
   * Set when its worker was stopped as stuck while this call waited in the worker's pipeline
   * window behind the stuck call: it never started, so it is dispatched again (idempotent or not).
   */
  neverStarted?: boolean;
  /** Its place among the calls its worker holds (see {@link HeldCalls}); -1 while it holds none. */
  heldAt: number;
}

interface Waiter<W> {
  readonly call: PendingCall;
  readonly preferred: W | undefined;
  prev: Waiter<W> | undefined;
  next: Waiter<W> | undefined;
  grant(worker: W): void;
  reject(error: SnakepitError): void;
}

/** Options of {@link CallQueue.wait}. */
export interface WaitOptions<W> {
  /** Fail the wait with `QUEUE_TIMEOUT` after this many milliseconds; 0 means never. */
  readonly timeoutMs: number;
  /** Called when the wait times out, before the rejection. */
  readonly onTimeout?: () => void;
  /** The worker this call should take first when it has room (its session's worker). */
  readonly preferred?: W | undefined;
}

/**
 * The pool's bounded FIFO of calls waiting for a worker: a linked list (leaving it is O(1)),
 * with an index of the calls waiting for a particular worker (their session's). A call leaves
 * when granted a worker, when its caller aborts (`ABORTED`, or the caller's own
 * `SnakepitError` reason), when it waited longer than its queue timeout (`QUEUE_TIMEOUT`; the
 * timer is cleared the moment the call leaves, so a served call never sees a stale timeout),
 * or when the pool fails everything waiting.
 */
export class CallQueue<W> {
  #head: Waiter<W> | undefined;
  #tail: Waiter<W> | undefined;
  #size = 0;
  readonly #byPreferred = new Map<W, Set<Waiter<W>>>();
  readonly #maxSize: number;

  /** @param maxSize calls that may wait at once; more fail fast with `QUEUE_FULL`. */
  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  get size(): number {
    return this.#size;
  }

  /** True when another call would be rejected with `QUEUE_FULL`. */
  get full(): boolean {
    return this.#size >= this.#maxSize;
  }

  /** Waits for a worker for `call`; resolves with the worker it is granted. */
  wait(call: PendingCall, options: WaitOptions<W>): Promise<W> {
    return new Promise<W>((resolve, reject) => {
      const signal = call.options.signal;
      let timer: NodeJS.Timeout | undefined;
      const leave = () => {
        this.#unlink(waiter);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        leave();
        reject(abortError(call));
      };
      const waiter: Waiter<W> = {
        call,
        preferred: options.preferred,
        prev: undefined,
        next: undefined,
        grant: (worker) => {
          leave();
          resolve(worker);
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
      this.#append(waiter);
    });
  }

  /**
   * Grants `worker` to the oldest call waiting for it in particular that `prefers` still
   * confirms, else to the oldest call that `eligible` accepts. Returns the call, or undefined.
   */
  grantNext(
    worker: W,
    prefers: (call: PendingCall) => boolean,
    eligible: (call: PendingCall) => boolean,
  ): PendingCall | undefined {
    const own = this.#byPreferred.get(worker);
    if (own !== undefined)
      for (const waiter of own)
        if (prefers(waiter.call)) {
          waiter.grant(worker);
          return waiter.call;
        }
    for (let w = this.#head; w !== undefined; w = w.next)
      if (eligible(w.call)) {
        w.grant(worker);
        return w.call;
      }
    return undefined;
  }

  /** Fails every waiting call that `match` selects (default: all) with `error`. */
  rejectAll(error: SnakepitError, match: (call: PendingCall) => boolean = () => true): void {
    const selected: Waiter<W>[] = [];
    for (let w = this.#head; w !== undefined; w = w.next) if (match(w.call)) selected.push(w);
    for (const waiter of selected) waiter.reject(error);
  }

  /** Drops the index of calls waiting for `worker` in particular (it stopped serving); they stay queued. */
  forgetPreferred(worker: W): void {
    this.#byPreferred.delete(worker);
  }

  #append(waiter: Waiter<W>): void {
    waiter.prev = this.#tail;
    if (this.#tail === undefined) this.#head = waiter;
    else this.#tail.next = waiter;
    this.#tail = waiter;
    this.#size++;
    if (waiter.preferred !== undefined) {
      const set = this.#byPreferred.get(waiter.preferred);
      if (set === undefined) this.#byPreferred.set(waiter.preferred, new Set([waiter]));
      else set.add(waiter);
    }
  }

  #unlink(waiter: Waiter<W>): void {
    const { prev, next } = waiter;
    if (prev === undefined) {
      if (this.#head !== waiter) return; // already left
      this.#head = next;
    } else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#size--;
    if (waiter.preferred !== undefined) {
      const set = this.#byPreferred.get(waiter.preferred);
      set?.delete(waiter);
      if (set?.size === 0) this.#byPreferred.delete(waiter.preferred);
    }
  }
}

/** The error a call fails with when its caller's signal aborts: the caller's own `SnakepitError`, or `ABORTED`. */
export function abortError(call: PendingCall): SnakepitError {
  const reason: unknown = call.options.signal?.reason;
  return reason instanceof SnakepitError
    ? reason
    : new SnakepitError("ABORTED", `Call "${call.tool}" was aborted`, { cause: reason });
}
