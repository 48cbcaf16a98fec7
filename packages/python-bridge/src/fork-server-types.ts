import type { ForkWorkerOptions } from "./forked-worker.js";
import type { WorkerProcess } from "./spawn-worker.js";
import type { WorkerExit } from "./worker-exit.js";

/** Options of {@link startForkServer}. */
export interface StartForkServerOptions {
  /** The Python interpreter; every forked worker runs this interpreter. */
  readonly pythonExecutable: string;
  /** The adapter spec; its module is imported once by the fork server, its class instantiated per worker. */
  readonly adapter: string;
  /** The host run's id: `--snakepit-run-id <id>` is in the fork server's argv, which every forked worker inherits. */
  readonly runId: string;
  /** More modules to import once, before any fork (e.g. `numpy`). Default: none. */
  readonly preload?: readonly string[];
  /** Extra environment of the fork server (and so of every worker), over the host's own. `undefined` removes. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Which of the host's environment variables the fork server — and so every forked worker —
   * starts with: all (`true`), none (`false`) or only the names listed; `env` applies on top.
   * Default `true`.
   */
  readonly inheritEnv?: boolean | readonly string[];
  /** Working directory of the fork server (a worker's own `cwd` is applied after its fork). Default: the host's. */
  readonly cwd?: string;
  /** Cap BLAS/OpenMP threads at 1 unless `env` (or the host's environment) sets them. Default true. */
  readonly capNativeThreads?: boolean;
  /** Linux `PR_SET_PDEATHSIG` on the fork server (dies with the host). Default true. Start from the main thread only. */
  readonly parentDeathSignal?: boolean;
  /** How long to wait for the fork server's imports, in milliseconds. Default 30000. */
  readonly startTimeoutMs?: number;
  /** Aborts the start: the fork server is killed and the promise rejects with the reason. */
  readonly signal?: AbortSignal;
  /** Every line the fork server itself writes (workers have their own `onOutput`). */
  readonly onOutput?: (line: string, stream: "stdout" | "stderr") => void;
}

/** A running fork server: forks ready-made workers of one adapter and environment. */
export interface ForkServer {
  readonly pid: number;
  readonly adapter: string;
  readonly runId: string;
  /**
   * Resolves when the fork server has exited (never rejects). Workers still starting die with it;
   * workers already serving keep serving while the host lives (their own lifelines remain).
   */
  readonly exited: Promise<WorkerExit>;
  readonly exit: WorkerExit | undefined;
  /**
   * Forks one worker and resolves once it serves, with the same {@link WorkerProcess} as
   * `spawnWorker`. Rejects like `spawnWorker`, and with `WORKER_START_FAILED` when the fork
   * server is closed or dies; `INVALID_OPTIONS` when `pythonExecutable`/`adapter`/`runId` differ
   * from the fork server's.
   */
  fork(options: ForkWorkerOptions): Promise<WorkerProcess>;
  /** Stops the fork server and resolves once it and every worker it forked have exited. Idempotent. */
  close(): Promise<void>;
  /** The last lines the fork server wrote to stdout/stderr. */
  outputTail(): string;
}
