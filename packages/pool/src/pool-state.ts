import { SnakepitError } from "@snakepit/errors";
import type { PoolState } from "./pool-types.js";

/** The pool's lifecycle, with the data each state carries. */
export type PoolLifecycle =
  | { readonly kind: "starting" }
  | { readonly kind: "ready" }
  | { readonly kind: "failed"; readonly error: SnakepitError }
  | { readonly kind: "closing" }
  | { readonly kind: "closed" };

/** The one transition table of a pool: `starting` → `ready` | `failed`; any → `closing` → `closed`. */
export const poolTransitions: Readonly<Record<PoolState, readonly PoolState[]>> = {
  starting: ["ready", "failed", "closing"],
  ready: ["closing"],
  failed: ["closing"],
  closing: ["closed"],
  closed: [],
};

/**
 * The pool's state machine: the current state, its one `transition()`, and the waits on it —
 * `minReady` workers up, the error a new call gets in each state.
 */
export class PoolStateMachine {
  readonly #name: string;
  #state: PoolLifecycle = { kind: "starting" };
  #minReadyReached: () => void = () => undefined;
  /** Resolves the first time {@link reachedMinReady} is called. */
  readonly minReady: Promise<void>;

  constructor(name: string) {
    this.#name = name;
    this.minReady = new Promise<void>((resolve) => {
      this.#minReadyReached = resolve;
    });
  }

  get current(): PoolLifecycle {
    return this.#state;
  }

  get kind(): PoolState {
    return this.#state.kind;
  }

  /** True while the pool serves or is about to: `starting` or `ready`. */
  get running(): boolean {
    return this.#state.kind === "starting" || this.#state.kind === "ready";
  }

  /** Moves to `next`; returns false (and changes nothing) when the table does not allow it. */
  transition(next: PoolLifecycle): boolean {
    if (!poolTransitions[this.#state.kind].includes(next.kind)) return false;
    this.#state = next;
    return true;
  }

  reachedMinReady(): void {
    this.#minReadyReached();
  }

  /** The error a new call fails with in this state, or undefined while the pool takes calls. */
  refusal(): SnakepitError | undefined {
    const s = this.#state;
    if (s.kind === "failed") return s.error;
    if (s.kind === "closing" || s.kind === "closed")
      return new SnakepitError(
        "POOL_CLOSED",
        `Pool "${this.#name}" is ${s.kind} and takes no new calls`,
      );
    return undefined;
  }
}
