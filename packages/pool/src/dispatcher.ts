import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { SnakepitError } from "@snakepit/errors";
import { currentCorrelationId } from "@snakepit/telemetry";
import { hasSubscribers, publish } from "@snakepit/telemetry/internal";
import { abortError, CallQueue, type PendingCall } from "./call-queue.js";
import type { AffinityMode, ExecuteOptions } from "./pool-types.js";
import type { SessionAffinity } from "./session-affinity.js";
import {
  mayRunOn,
  type SelectionCall,
  type SelectionView,
  selectWorker,
} from "./worker-selection.js";
import type { WorkerSet } from "./worker-set.js";
import type { WorkerSlot } from "./worker-slot.js";

type Worker = WorkerSlot<PendingCall>;

/** What the {@link Dispatcher} needs from its pool. */
export interface DispatcherOptions {
  readonly pool: string;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  /** The pool's default affinity mode. */
  readonly affinity: AffinityMode;
  readonly workers: WorkerSet<PendingCall>;
  readonly sessions: SessionAffinity;
  /** The error a new call fails with at once (pool closed or failed, no worker can start), if any. */
  readonly refusal: () => SnakepitError | undefined;
  /** Called after a call was booked on a worker (for request-count recycling). */
  readonly onBooked?: (worker: Worker) => void;
}

// Call events write their fields out (pool, tool, callId, correlationId, then their own) rather
// than spreading a shared object: on Node 20 `{ ...fields(), depth }` costs 2–4.5 µs, a literal
// ~0.1 µs, and four events a call made that most of the host's cost with any subscriber.

/**
 * Hands calls to workers: a free worker at once (no queue entry, no promise), else a place in
 * the bounded FIFO queue until a worker has room. Owns the queue, call ids and drain waiters.
 *
 * The invariant that keeps it O(1) per call: after every step, no waiting call may run on a
 * worker with room. So a new call never needs to look at the queue, and a worker that gains
 * room ({@link release}) is the only one to fill. Only when a worker stops serving do strict
 * calls bound to it become free to run anywhere, and then every worker with room is filled.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #queue: CallQueue<Worker>;
  readonly #view: SelectionView<Worker>;
  // Call ids: unique per pool (a random prefix, then a counter), cheaper than a UUID per call.
  // The counter is written in base 36, never with `${n}`: V8 keeps decimal number strings in a
  // cache in the old generation, so each call's id outlived the next young-generation GC and was
  // promoted (220 bytes a call promoted, and ~1 µs of GC a call, measured in memory at c=8).
  readonly #idPrefix = `${randomUUID().slice(0, 8)}-`;
  #counter = 0;
  // Default correlation ids: UUID-shaped, a random per-pool part (its first 20 hex digits, with
  // 74 random bits) and the call counter as the last 12: unique without a random draw per call.
  readonly #correlationPrefix = randomUUID().slice(0, 24);
  readonly #drained: Array<() => void> = [];

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#queue = new CallQueue<Worker>(options.maxQueue);
    const { workers, sessions } = options;
    this.#view = {
      sessionWorker(sessionId) {
        const id = sessions.workerOf(sessionId);
        const worker = id === undefined ? undefined : workers.get(id);
        return worker?.state.kind === "ready" ? worker : undefined;
      },
      hasRoom: (worker) => worker.available,
      nextWithRoom: () => workers.nextWithRoom(),
    };
  }

  /** Calls waiting for a worker. */
  get queueSize(): number {
    return this.#queue.size;
  }

  /** A new call with its id and correlation id. Throws `INVALID_ARGUMENTS` for a bad tool name. */
  newCall(
    tool: string,
    args: Readonly<Record<string, unknown>> | undefined,
    options: ExecuteOptions,
  ): PendingCall {
    if (typeof tool !== "string" || tool === "")
      throw new SnakepitError(
        "INVALID_ARGUMENTS",
        `Expected \`tool\` to be a non-empty string, got ${JSON.stringify(tool)}`,
      );
    const n = ++this.#counter;
    return {
      id: this.#idPrefix + n.toString(36),
      tool,
      args,
      options,
      correlationId:
        options.correlationId ??
        currentCorrelationId() ??
        this.#correlationPrefix + n.toString(16).padStart(12, "0"),
      enqueuedAt: 0,
      heldAt: -1,
    };
  }

  /**
   * A worker for `call`, booked: at once when one has room, else a promise that resolves when
   * one is granted. Throws `ABORTED`, `SESSION_BUSY`, `QUEUE_FULL` or the pool's refusal.
   */
  acquire(call: PendingCall): Worker | Promise<Worker> {
    if (call.options.signal?.aborted) throw abortError(call);
    const refusal = this.#o.refusal();
    if (refusal !== undefined) throw refusal;
    let worker: Worker | undefined;
    let preferred: Worker | undefined;
    // selectWorker's rule for a call without a session, without building its answer.
    if (call.options.sessionId === undefined) worker = this.#o.workers.nextWithRoom();
    else {
      const selection = selectWorker(this.#selectionCall(call), this.#view);
      if (selection.kind === "busy")
        throw new SnakepitError(
          "SESSION_BUSY",
          `Session "${call.options.sessionId}" is bound to worker ${selection.worker.id}, which is busy (affinity "strict-fail-fast")`,
          { details: { workerId: selection.worker.id } },
        );
      if (selection.kind === "run") worker = selection.worker;
      else preferred = selection.preferred;
    }
    if (hasSubscribers("snakepit:queue:enqueued"))
      publish("snakepit:queue:enqueued", {
        pool: this.#o.pool,
        tool: call.tool,
        callId: call.id,
        correlationId: call.correlationId,
        depth: this.#queue.size + (worker === undefined ? 1 : 0),
      });
    if (worker !== undefined) {
      this.#book(worker, call);
      return worker;
    }
    if (this.#queue.full) {
      publish("snakepit:queue:rejected", () => ({
        pool: this.#o.pool,
        tool: call.tool,
        callId: call.id,
        correlationId: call.correlationId,
        reason: "full",
        depth: this.#queue.size,
      }));
      throw new SnakepitError(
        "QUEUE_FULL",
        `Pool "${this.#o.pool}" has ${this.#queue.size} calls waiting, its \`maxQueue\`; try again later or raise \`maxQueue\``,
        { details: { maxQueue: this.#o.maxQueue } },
      );
    }
    call.enqueuedAt = performance.now();
    return this.#queue.wait(call, {
      timeoutMs: this.#o.queueTimeoutMs,
      preferred,
      onTimeout: () =>
        publish("snakepit:queue:timeout", () => ({
          pool: this.#o.pool,
          tool: call.tool,
          callId: call.id,
          correlationId: call.correlationId,
          waitMs: performance.now() - call.enqueuedAt,
          depth: this.#queue.size,
        })),
    });
  }

  /** Frees the room `call` held on `worker` and hands that room to the next waiting call. */
  release(worker: Worker, call: PendingCall, toolMs?: number): void {
    if (this.#o.workers.release(worker, call, toolMs) && this.#queue.size > 0) this.fill(worker);
    this.#checkDrained();
  }

  /** Hands waiting calls to `worker` while it has room: its session's calls first, then the oldest it may run. */
  fill(worker: Worker): void {
    const prefers = (call: PendingCall) =>
      call.options.sessionId !== undefined &&
      this.#view.sessionWorker(call.options.sessionId) === worker;
    const eligible = (call: PendingCall) => mayRunOn(this.#selectionCall(call), worker, this.#view);
    while (worker.available && this.#queue.size > 0) {
      const call = this.#queue.grantNext(worker, prefers, eligible);
      if (call === undefined) return;
      this.#book(worker, call);
    }
  }

  /**
   * Fills every worker with room, in the order new calls take them. For when the rules change for
   * many calls at once: a worker started serving, or stopped (its strict calls may go anywhere).
   */
  fillAll(stopped?: Worker): void {
    if (stopped !== undefined) this.#queue.forgetPreferred(stopped);
    if (this.#queue.size > 0) for (const worker of this.#o.workers.withRoom()) this.fill(worker);
    this.#checkDrained();
  }

  /** Fails every waiting call with `error`. */
  rejectAll(error: SnakepitError): void {
    this.#queue.rejectAll(error);
    this.#checkDrained();
  }

  /** Resolves once no call waits and none runs. */
  whenDrained(): Promise<void> {
    return new Promise((resolve) => {
      this.#drained.push(resolve);
      this.#checkDrained();
    });
  }

  #book(worker: Worker, call: PendingCall): void {
    this.#o.workers.book(worker, call);
    const sessionId = call.options.sessionId;
    if (sessionId !== undefined) this.#o.sessions.assign(sessionId, worker.id);
    this.#o.onBooked?.(worker);
  }

  #selectionCall(call: PendingCall): SelectionCall {
    return {
      sessionId: call.options.sessionId,
      affinity: call.options.affinity ?? this.#o.affinity,
    };
  }

  #checkDrained(): void {
    // Only close() waits for the drain: nothing to do on the hot path.
    if (this.#drained.length === 0) return;
    if (this.#queue.size === 0 && this.#o.workers.heldCount === 0)
      for (const resolve of this.#drained.splice(0)) resolve();
  }
}
