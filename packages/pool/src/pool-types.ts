import type { RecycleReason } from "@snakepit/lifecycle";
import type { LatencySummary } from "./latency-summary.js";

/**
 * How a call with a `sessionId` picks its worker: `hint` prefers the worker that served the
 * session last and falls back to any worker when it is busy; `strict-queue` waits for that
 * worker; `strict-fail-fast` fails with `SESSION_BUSY` when it is busy. When the session's
 * worker is gone, every mode takes any worker.
 */
export type AffinityMode = "hint" | "strict-queue" | "strict-fail-fast";

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
  /** How the session picks its worker. Default: the pool's `affinity` (`"hint"`). */
  readonly affinity?: AffinityMode;
  /**
   * The tool can safely run twice: if its worker crashes or is found hung mid-call, run it again
   * on another worker (up to the pool's `retries`). Default false.
   */
  readonly idempotent?: boolean;
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
  /** `degraded` when workers keep crashing right after start (the crash barrier holds them out). */
  readonly health: "ok" | "degraded";
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
  /** Workers started to replace one that crashed, hung, or ignored cancellation. */
  readonly restarts: number;
  /** {@link PoolStats.restarts} by reason. */
  readonly restartsByReason: Readonly<Record<RestartReason, number>>;
  /** Workers replaced by recycling (drain-then-swap), by reason. */
  readonly recyclesByReason: Readonly<Record<RecycleReason | "manual", number>>;
  /** Time calls waited in the queue (recent calls), in milliseconds. */
  readonly waitMs: LatencySummary;
  /** Time calls ran on a worker (recent calls), in milliseconds. */
  readonly runMs: LatencySummary;
  /** OS pids of the ready workers. */
  readonly pids: readonly number[];
  /** One entry per worker. */
  readonly workerDetails: readonly WorkerStats[];
}

/** One worker, from {@link PoolStats.workerDetails}. */
export interface WorkerStats {
  readonly workerId: string;
  readonly pid: number | undefined;
  /** Where its gRPC server listens (`unix:/...`, mode 0600), once started: for debugging tools. */
  readonly address: string | undefined;
  readonly state: "starting" | "ready" | "draining" | "stopping" | "exited";
  /** Calls running on it now. */
  readonly inFlight: number;
  /** Calls it finished (health checks and heartbeats never count). */
  readonly callsServed: number;
  /** Milliseconds since it was started. */
  readonly uptimeMs: number;
  /** The last memory sample (RSS of the worker and its children), in bytes. */
  readonly memoryBytes: number | undefined;
  /** Its own request limit (with jitter), if recycling by requests is on. */
  readonly maxRequests: number | undefined;
}

/**
 * Why a worker was replaced: it exited on its own (`crashed`), stopped answering heartbeats
 * (`unhealthy`), or kept running a call after it was cancelled (`stuck`).
 */
export type RestartReason = "crashed" | "unhealthy" | "stuck";

/** `starting` → `ready` → `closing` → `closed`; `starting` → `failed` when the first start fails. */
export type PoolState = "starting" | "ready" | "failed" | "closing" | "closed";

/** A pool of Python worker processes. */
export interface Pool {
  readonly name: string;
  /** The pool's state (see {@link PoolState}). */
  readonly state: PoolState;
  /**
   * Resolves when `minReady` workers (default: all) are ready; rejects with the first start
   * failure before that (e.g. `ADAPTER_LOAD_FAILED`).
   */
  ready(options?: { readonly signal?: AbortSignal }): Promise<void>;
  /**
   * Runs `tool` with keyword `args` on a free worker, or waits in a bounded FIFO queue for one.
   * Resolves with the tool's return value (JSON as values, `bytes` as a `Buffer`, `None` as
   * `null`); rejects with a `SnakepitError` (`TOOL_ERROR` with the Python details,
   * `TOOL_NOT_FOUND`, `CALL_TIMEOUT`, `ABORTED`, `WORKER_CRASHED`, `QUEUE_FULL`,
   * `QUEUE_TIMEOUT`, `POOL_CLOSED`, ...).
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
  /** Recycles one worker now (drain-then-swap); resolves once the old worker is gone. */
  recycle(workerId: string): Promise<void>;
  /** Recycles every worker, one at a time (a rolling restart). */
  recycleAll(): Promise<void>;
  /**
   * Stops taking calls, lets queued and running ones finish (at most `timeoutMs`, default
   * 30000), then stops the workers. Aborting `signal` ends the wait at once: what is still
   * queued or running fails as with {@link Pool.destroy}, and the promise resolves once the
   * workers are stopped. Idempotent.
   */
  close(options?: CloseOptions): Promise<void>;
  /** Fails queued and running calls with `POOL_CLOSED`/`WORKER_STOPPED` and stops the workers now. Idempotent. */
  destroy(): Promise<void>;
  /** `await using pool = createPool(...)`: closes the pool (as {@link Pool.close} with defaults). */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link Pool.close}. */
export interface CloseOptions {
  /** How long queued and running calls may take to finish, in milliseconds. Default 30000. */
  readonly timeoutMs?: number;
  /** Stop waiting for calls to finish: fail them and stop the workers now. */
  readonly signal?: AbortSignal;
}
