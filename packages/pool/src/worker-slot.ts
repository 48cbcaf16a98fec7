import { setMaxListeners } from "node:events";
import type { RecycleReason } from "@snakepit/lifecycle";
import type { WorkerExit, WorkerProcess } from "@snakepit/python-bridge";
import { HeldCalls, type Holdable } from "./held-calls.js";

/**
 * The lifecycle of one worker slot in a pool:
 * `starting` → `ready` → (`draining` →) `stopping` → `exited`; a crash goes to `exited` from any
 * state. `draining` is recycling: the worker takes no new calls and finishes the ones it has.
 */
export type WorkerSlotState =
  | { readonly kind: "starting" }
  | { readonly kind: "ready" }
  | { readonly kind: "draining"; readonly reason: RecycleReason | "manual" }
  | { readonly kind: "stopping"; readonly reason: StopReason }
  | { readonly kind: "exited"; readonly exit: WorkerExit | undefined; readonly expected: boolean };

/** Why the pool stops a worker. */
export type StopReason = "close" | "destroy" | "start-failed" | "unhealthy" | "stuck" | "recycled";

/**
 * A sequential worker whose `pipelineDepth` was left to its default pipelines (holds more than
 * one call: its window) only while its calls are quick: while their tools' running time, averaged
 * over the last few, stays under this. A window saves
 * the round trip between two calls (tens of µs), which matters to calls of microseconds, not to
 * calls of milliseconds — and a call waiting in a window waits for that worker even when another
 * frees up first, which long calls of varying length make costly.
 */
export const QUICK_CALL_MS = 1;
// Weight of the newest call in the running-time average (about the last 4–8 calls count).
const SMOOTHING = 0.25;

const allowed: Record<WorkerSlotState["kind"], readonly WorkerSlotState["kind"][]> = {
  starting: ["ready", "stopping", "exited"],
  ready: ["draining", "stopping", "exited"],
  draining: ["stopping", "exited"],
  stopping: ["exited"],
  exited: [],
};

/**
 * One worker of a pool: its process once started, the calls it holds, its state and facts.
 * Membership, the ready count and the LRU order live in its {@link WorkerSet}: change its state
 * and its calls through the set, which keeps them in step.
 */
export class WorkerSlot<Call extends Holdable> {
  readonly id: string;
  readonly startedAt = Date.now();
  /** Calls this worker holds now (dispatched to it and not yet finished). */
  readonly inFlight = new HeldCalls<Call>();
  /**
   * Calls it may hold at once: its capacity. 1 for the process profile, `threadsPerWorker` for
   * the thread profile; a transport that pipelines may give a worker a window of a few more.
   */
  readonly capacity: number;
  /** This worker's own request limit (`maxRequests` plus its jitter), fixed at start. */
  readonly maxRequests: number | undefined;
  process: WorkerProcess | undefined;
  /** `performance.now()` when it became ready. */
  readyAt: number | undefined;
  /** Calls handed to it so far. */
  callsDispatched = 0;
  /** Calls it finished. Health checks and heartbeats never count. */
  callsServed = 0;
  /** The last memory sample of the worker and its children, in bytes. */
  memoryBytes: number | undefined;
  memorySampledAt: number | undefined;
  /** Health checks failed in a row. */
  healthFailures = 0;
  /** Set while a recycle of this worker is under way (its successor is starting). */
  recycling: Promise<void> | undefined;
  /**
   * True once it was handed `maxRequests + maxRequestsJitter` calls: it takes no more while it
   * waits for its successor (set through {@link WorkerSet.stopBooking}).
   */
  atLimit = false;
  /** Wakes a recycle waiting for this worker to reach its own request limit. */
  limitReached: (() => void) | undefined;
  /** Links of the set's LRU lists of workers with room (owned by {@link WorkerSet}). */
  lruPrev: WorkerSlot<Call> | undefined;
  lruNext: WorkerSlot<Call> | undefined;
  /** Which of those lists it is on (0 idle, 1 busy with room), if any. */
  lruList: 0 | 1 | undefined;
  /**
   * Links of the set's lists of busy workers with room by how many calls they hold (owned by
   * {@link WorkerSet}), and the list it is on: its call count then, or -1 on none.
   */
  loadPrev: WorkerSlot<Call> | undefined;
  loadNext: WorkerSlot<Call> | undefined;
  loadList = -1;
  #state: WorkerSlotState = { kind: "starting" };
  #drained: (() => void) | undefined;
  readonly #calls = new AbortController();

  /**
   * True when it runs its calls one at a time, in order (the process profile; its capacity is
   * a pipeline window): then a call it still runs after it was cancelled holds back new calls.
   */
  readonly sequential: boolean;
  /** Calls cancelled while running that the worker has not let go of yet (see {@link WorkerSet.setCancelling}). */
  cancelling = 0;
  /**
   * A worker with an adaptive window: the running time of its calls' tools, averaged (ms; see
   * {@link QUICK_CALL_MS}): what Python reports for each call that returned, the time until its
   * deadline or abort for one that was cancelled. Not the time the host saw: on a busy machine
   * that is mostly waiting, and would call a 10 µs tool slow. It starts above the mark, so a new
   * worker takes one call at a time until its first few calls have been quick (a burst of long
   * calls at start-up must not fill its window).
   */
  callMs = 2 * QUICK_CALL_MS;

  /** True when its window follows how quick its calls are (see {@link window}). */
  readonly #adaptive: boolean;

  constructor(
    id: string,
    capacity = 1,
    maxRequests?: number,
    sequential = false,
    adaptiveWindow = false,
  ) {
    this.id = id;
    this.capacity = capacity;
    this.maxRequests = maxRequests;
    this.sequential = sequential;
    this.#adaptive = adaptiveWindow && sequential && capacity > 1;
    // The grpc-js client listens once however many calls share it; the connect transport
    // (`AbortSignal.any`) once per running call, up to `capacity`: not a leak.
    setMaxListeners(0, this.#calls.signal);
  }

  /** The RPC signal of calls on this worker that have none of their own; see {@link abortCalls}. */
  get callSignal(): AbortSignal {
    return this.#calls.signal;
  }

  /** Cancels every RPC on {@link callSignal}: the worker crashed or is being stopped. Final. */
  abortCalls(): void {
    this.#calls.abort(new Error(`worker ${this.id} stopped`));
  }

  get state(): WorkerSlotState {
    return this.#state;
  }

  /**
   * True when the worker is ready and has room for another call — and, if it is sequential, is
   * not still running a call that was cancelled (a call put behind that one would wait for a
   * tool that may never end, and fail with the worker if it is found stuck).
   */
  get available(): boolean {
    return (
      this.#state.kind === "ready" &&
      this.inFlight.size < this.window &&
      !this.atLimit &&
      (this.cancelling === 0 || !this.sequential)
    );
  }

  /**
   * Calls it may hold now: its capacity, but 1 when its window is adaptive (a sequential worker
   * whose `pipelineDepth` was left to its default) and its calls are not quick.
   */
  get window(): number {
    return this.#adaptive && this.callMs >= QUICK_CALL_MS ? 1 : this.capacity;
  }

  /**
   * True when more quick calls may be packed into it while it is busy (see
   * {@link WorkerSet.nextWithRoom}): its window is adaptive and open (its calls are quick).
   */
  get packsQuickCalls(): boolean {
    return this.#adaptive && this.callMs < QUICK_CALL_MS;
  }

  /** Adds a call dispatched to it. */
  book(call: Call): void {
    this.inFlight.add(call);
  }

  /** Moves to `next`; returns false (and changes nothing) when the transition is not allowed. */
  transition(next: WorkerSlotState): boolean {
    if (!allowed[this.#state.kind].includes(next.kind)) return false;
    this.#state = next;
    return true;
  }

  /** Resolves once no call runs on this worker. */
  idle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  /**
   * Removes a finished call whose tool ran `toolMs` (when known: a call that failed or streamed
   * leaves the average alone); wakes {@link idle} when it was the last one.
   */
  finish(call: Call, toolMs?: number): void {
    this.inFlight.delete(call);
    if (this.#adaptive && toolMs !== undefined && Number.isFinite(toolMs))
      this.callMs += SMOOTHING * (toolMs - this.callMs);
    if (this.inFlight.size === 0) {
      this.#drained?.();
      this.#drained = undefined;
    }
  }
}
