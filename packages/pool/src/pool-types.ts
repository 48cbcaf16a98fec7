/** Options of one {@link Pool.execute} call. */
export interface ExecuteOptions {
  /** Cancels the call, while queued or running. The rejection is `ABORTED` (or your `SnakepitError` reason). */
  readonly signal?: AbortSignal;
  /** Deadline from dispatch to a worker, in milliseconds; 0 means none. Default: the pool's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** The call's correlation id (sent to Python, on every log line). Default: a new UUID. */
  readonly correlationId?: string;
  /** The user's session id: Python tools read and write its state on the host. Default: none. */
  readonly sessionId?: string;
  /** Free-form string metadata for the tool (`current_call().metadata`). Default: none. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A JavaScript function Python tools can call through the host service. */
export type HostTool = (
  args: Record<string, unknown>,
  context: {
    readonly sessionId: string;
    readonly workerId: string;
    readonly correlationId: string | undefined;
  },
) => unknown;

/** Counts of a pool at one moment. */
export interface PoolStats {
  readonly name: string;
  readonly state: PoolState;
  readonly workers: {
    readonly starting: number;
    readonly idle: number;
    readonly busy: number;
    readonly stopping: number;
  };
  readonly queueDepth: number;
  readonly inFlight: number;
  readonly callsSucceeded: number;
  readonly callsFailed: number;
  /** Workers started to replace one that crashed or failed its heartbeat. */
  readonly restarts: number;
  /** {@link PoolStats.restarts} by reason. */
  readonly restartsByReason: Readonly<Record<RestartReason, number>>;
  /** OS pids of the ready workers. */
  readonly pids: readonly number[];
}

/** Why a worker was replaced: it exited on its own, or stopped answering heartbeats. */
export type RestartReason = "crashed" | "unhealthy";

/** `starting` → `ready` → `closing` → `closed`; `starting` → `failed` when the first start fails. */
export type PoolState = "starting" | "ready" | "failed" | "closing" | "closed";

/** A pool of Python worker processes. */
export interface Pool {
  readonly name: string;
  /** The pool's state (see {@link PoolState}). */
  readonly state: PoolState;
  /** Resolves when every worker is ready; rejects with the first start failure (e.g. `ADAPTER_LOAD_FAILED`). */
  ready(options?: { readonly signal?: AbortSignal }): Promise<void>;
  /**
   * Runs `tool` with keyword `args` on an idle worker, or waits in a FIFO queue for one. Resolves
   * with the tool's return value (JSON as values, `bytes` as `Uint8Array`, `None` as `null`);
   * rejects with a `SnakepitError` (`TOOL_ERROR` with the Python details, `TOOL_NOT_FOUND`,
   * `CALL_TIMEOUT`, `ABORTED`, `WORKER_CRASHED`, `POOL_CLOSED`, ...).
   */
  execute<T = unknown>(
    tool: string,
    args?: Readonly<Record<string, unknown>>,
    options?: ExecuteOptions,
  ): Promise<T>;
  /**
   * Runs a generator tool and yields its chunks as they come. The next chunk is read only when
   * the loop asks for it (backpressure); breaking out of the loop or aborting cancels the call,
   * which closes the generator in Python. Errors as for {@link Pool.execute}.
   */
  executeStream<T = unknown>(
    tool: string,
    args?: Readonly<Record<string, unknown>>,
    options?: ExecuteOptions,
  ): AsyncIterable<T>;
  /** Counts of workers, queue and calls. */
  stats(): PoolStats;
  /** Stops taking calls, lets queued and running ones finish (at most `timeoutMs`), then stops the workers. Idempotent. */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Fails queued and running calls with `POOL_CLOSED` and stops the workers now. Idempotent. */
  destroy(): Promise<void>;
}
