import type { TracerProvider } from "@opentelemetry/api";
import type { HeartbeatSettings } from "@snakepit/heartbeat";
import type { RecyclePolicy } from "@snakepit/lifecycle";
import type { LifelineOptions } from "./lifeline-options.js";
import type { Logger } from "./logger.js";
import type { AffinityMode } from "./pool-types.js";

/** Options of {@link createPool}. */
export interface PoolOptions {
  /** The Python adapter: `package.module:Class`, `package.module`, `path/to/file.py[:Class]`. Required. */
  readonly adapter: string;
  /** A name for logs, worker ids and stats. Default `"default"`. */
  readonly name?: string;
  /** Number of worker processes. Default: the number of CPUs (at least 1). */
  readonly size?: number;
  /** The Python interpreter. Default: `$SNAKEPIT_PYTHON`, else a venv Snakepit creates in its cache dir. */
  readonly pythonExecutable?: string;
  /** Extra environment for the workers. `undefined` values remove a variable. Default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Which of the host's environment variables the workers (and, in fork mode, the fork server)
   * start with: `true` all of them, `false` none, or an allow-list of names such as
   * `["PATH", "HOME", "LANG"]` — so cloud credentials and other secrets in the host's environment
   * stay out of Python. `env` applies on top either way. Default `true`.
   */
  readonly inheritEnv?: boolean | readonly string[];
  /** Working directory of the workers. Default: the host's. */
  readonly cwd?: string;
  /** How long a worker may take to become ready, in milliseconds. Default 30000. */
  readonly startTimeoutMs?: number;
  /** How long a stopping worker gets between SIGTERM and SIGKILL, in milliseconds. Default 2000. */
  readonly shutdownGraceMs?: number;
  /** Default deadline of a call from dispatch, in milliseconds; 0 means none. Default 0. */
  readonly timeoutMs?: number;
  /** Calls that may wait for a worker at once; more fail fast with `QUEUE_FULL`. Default 1000. */
  readonly maxQueue?: number;
  /** How long a call may wait for a worker, in milliseconds, before `QUEUE_TIMEOUT`; 0 means no limit. Default 0. */
  readonly queueTimeoutMs?: number;
  /**
   * After a running call is cancelled (deadline or abort), how long its worker may take to
   * stop the tool, in milliseconds; a worker still running it then is killed and replaced, so
   * one stuck tool never blocks the pool. Default 2000.
   */
  readonly cancelGraceMs?: number;
  /**
   * `process`: one call at a time per worker process. `thread`: each worker serves up to
   * `threadsPerWorker` calls at once (on threads; tools must be thread-safe). Default `"process"`.
   */
  readonly profile?: "process" | "thread";
  /** Calls one worker serves at once with the `thread` profile. Default 4. */
  readonly threadsPerWorker?: number;
  /**
   * `process` profile: calls one worker may hold at once, its pipeline window (1–64 with frames,
   * 1–4 with gRPC). The worker still runs one at a time, in order; the next ones wait in its
   * socket, so Python never idles for a round trip between calls (what python-shell's pipelined
   * stdin gets for free). A call goes into a busy worker's window only when no worker is idle, or
   * with the default window, when as many workers are busy as the machine has cores and its calls
   * are quick (they are packed then, rather than waking another worker).
   * Left to its default (32 with frames) the window adapts: a worker holds more than one call only
   * while its calls are quick (averaged running time under 1 ms), else one at a time; a depth set
   * here is a fixed window. A call waiting there has been dispatched: its
   * deadline runs, an abort cancels it (it then never starts), a crash fails it with
   * `WORKER_CRASHED` (an `idempotent` call runs again elsewhere), a worker found stuck on an
   * earlier call sends it to another worker (it never started), and it no longer counts towards
   * `maxQueue` or `queueTimeoutMs`. Default 32 with the frames transport; 1 (no window: a call
   * waits in the pool's queue until a worker is free, and may take whichever frees first) with
   * gRPC, whose worker runs the calls of its window one at a time but not necessarily in
   * dispatch order.
   */
  readonly pipelineDepth?: number;
  /** `ready()` resolves once this many workers are ready (the rest keep starting). Default: `size`. */
  readonly minReady?: number;
  /** Default session affinity of calls with a `sessionId`. Default `"hint"`. */
  readonly affinity?: AffinityMode;
  /** Times an `idempotent` call is run again after its worker crashed or hung. Default 1. */
  readonly retries?: number;
  /**
   * Close the pool when the host receives SIGINT or SIGTERM, then re-raise the signal so the
   * process still exits as it would have. Default false (the application decides).
   */
  readonly handleSignals?: boolean;
  /** A pino-compatible logger. Default: silent. */
  readonly logger?: Logger;
  /**
   * The host's heartbeat to each worker, which finds hung or frozen workers and replaces them;
   * `false` turns it off. Default: on, a ping every 2000 ms, 10000 ms timeout, 3 rejections.
   */
  readonly heartbeat?: Partial<HeartbeatSettings> | false;
  /** How workers notice that the host died and exit (orphan protection). Default: all on but the watchdog. */
  readonly lifelines?: LifelineOptions;
  /**
   * How workers start. `spawn`: each is a new Python process. `fork`: one fork server per pool
   * imports the bridge, grpcio and the adapter module once and forks ready-made workers (much
   * faster and smaller; Linux only, falls back to `spawn` elsewhere; see the python-bridge README
   * for what may differ per worker). Default: `$SNAKEPIT_START_MODE`, else `"spawn"`.
   */
  readonly startMode?: "spawn" | "fork";
  /** Extra modules the fork server imports once, before forking (e.g. `numpy`). Default: none. */
  readonly preload?: readonly string[];
  /**
   * How the pool talks to its workers. `frames`: protobuf frames over each worker's private
   * socketpair (fd 4; no socket file, no gRPC on the hot path; ~10× the calls/s of gRPC for small
   * calls). `grpc`: each worker serves gRPC on a 0600 Unix socket in a 0700 directory — pick it to
   * reach workers with standard gRPC tools (`grpcurl`, `stats().workerDetails[].address`).
   * Both behave the same. Default: `$SNAKEPIT_TRANSPORT`, else `"frames"`.
   */
  readonly transport?: "frames" | "grpc";
  /**
   * Largest message either way, in bytes: a call whose arguments or result are larger fails alone
   * with `PAYLOAD_TOO_LARGE` (size and limit in `details`). Default 104857600 (100 MiB).
   */
  readonly maxMessageBytes?: number;
  /**
   * When to replace workers that have served long enough (drain-then-swap: the replacement is
   * ready before the old worker stops taking calls, so no call fails and capacity never drops).
   * Default: never.
   */
  readonly recycle?: RecycleOptions;
  /**
   * Durable records of every worker (so a later start can kill the orphans of a host that was
   * SIGKILLed) and the sweep of dead hosts' orphans at start; `false` turns both off.
   * Default: on, in `$XDG_STATE_HOME/snakepit` (or `~/.local/state/snakepit`).
   */
  readonly registry?: RegistryOptions | false;
  /**
   * The OpenTelemetry tracer provider for call spans (tracer `@snakepit/telemetry` at its
   * version). Default: the globally registered provider (none: no spans, no cost).
   */
  readonly tracerProvider?: TracerProvider;
}

/** When to recycle workers, and how often to look. */
export interface RecycleOptions extends RecyclePolicy {
  /** Milliseconds between memory samples of each worker (RSS of the worker and its children). Default 5000. */
  readonly memorySampleIntervalMs?: number;
  /**
   * Milliseconds between health checks (a real `Ping` RPC to each worker); 0 turns them off.
   * A worker that fails `unhealthyAfter` (default 3) checks in a row is recycled. Default 30000.
   */
  readonly healthCheckIntervalMs?: number;
}

/** Options of the pool's process registry. */
export interface RegistryOptions {
  /** Where records live. Default: `$XDG_STATE_HOME/snakepit` or `~/.local/state/snakepit`. */
  readonly dataDir?: string;
  /** Kill the orphans of dead hosts when the pool starts. Default true. */
  readonly sweepOnStart?: boolean;
}
