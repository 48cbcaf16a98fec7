import type { WorkerExit, WorkerProcess } from "@snakepit/python-bridge";

/**
 * The lifecycle of one worker in a pool:
 * `starting` → `ready` → `stopping` → `exited`, or `starting`/`ready` → `exited` on a crash.
 */
export type WorkerState =
  | { readonly kind: "starting" }
  | { readonly kind: "ready" }
  | { readonly kind: "stopping"; readonly reason: StopReason }
  | { readonly kind: "exited"; readonly exit: WorkerExit | undefined; readonly expected: boolean };

/** Why the pool stops a worker. */
export type StopReason = "close" | "destroy" | "start-failed" | "unhealthy" | "stuck";

const allowed: Record<WorkerState["kind"], readonly WorkerState["kind"][]> = {
  starting: ["ready", "stopping", "exited"],
  ready: ["stopping", "exited"],
  stopping: ["exited"],
  exited: [],
};

/** One worker of a pool: its process once started, its calls in flight, its state. */
export class WorkerSlot<Call> {
  readonly id: string;
  readonly startedAt = Date.now();
  /** Calls this worker is running now. */
  readonly inFlight = new Set<Call>();
  /** Calls it may run at once. */
  readonly capacity: number;
  process: WorkerProcess | undefined;
  callsServed = 0;
  #state: WorkerState = { kind: "starting" };

  constructor(id: string, capacity = 1) {
    this.id = id;
    this.capacity = capacity;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** True when the worker is ready and has room for another call. */
  get available(): boolean {
    return this.#state.kind === "ready" && this.inFlight.size < this.capacity;
  }

  /** Moves to `next`; returns false (and changes nothing) when the transition is not allowed. */
  transition(next: WorkerState): boolean {
    if (!allowed[this.#state.kind].includes(next.kind)) return false;
    this.#state = next;
    return true;
  }
}
