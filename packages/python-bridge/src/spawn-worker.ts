import type { Socket } from "node:net";
import { SnakepitError } from "@snakepit/errors";
import { awaitWorkerReady } from "./await-worker-ready.js";
import { bridgeModuleArgs, type SpawnedPython, spawnPython } from "./spawn-python.js";
import type { WorkerClient } from "./worker-client.js";
import type { WorkerExit } from "./worker-exit.js";
import { FRAMES_FD, type WorkerLogRecord, workerFlags } from "./worker-handshake.js";
import { checkTransport, type WorkerTransport } from "./worker-transport.js";

/** How the worker's own dependent heartbeat to the host behaves (orphan layer 3). */
export interface WorkerHostHeartbeatOptions {
  /** Time between beats, in milliseconds. Default 2000. */
  readonly intervalMs?: number;
  /** Deadline of one beat, in milliseconds. Default 2000. */
  readonly timeoutMs?: number;
  /** Consecutive failed beats after which the worker terminates itself. Default 3. */
  readonly maxMissed?: number;
}

/** Options of {@link spawnWorker}. */
export interface SpawnWorkerOptions {
  /** The Python interpreter (see `resolvePythonEnvironment`). */
  readonly pythonExecutable: string;
  /** `package.module:Class`, `package.module`, `path/to/file.py` or `path/to/file.py:Class`. */
  readonly adapter: string;
  /** The host's id of this worker (in argv, logs and `x-snakepit-worker-id`). */
  readonly workerId: string;
  /** The host run's id, put in argv as `--snakepit-run-id <id>` so orphans can be found. */
  readonly runId: string;
  /**
   * Where the worker's gRPC server listens: `unix:/abs/path.sock` (mode 0600) or `127.0.0.1:0`.
   * Required with `transport: "grpc"`, unused with `"frames"`.
   */
  readonly listen?: string;
  /**
   * `"grpc"` (default here): the worker serves gRPC on `listen`. `"frames"`: protobuf frames over
   * an inherited socketpair on fd 4 — no socket file, no gRPC on the hot path (the pool's default).
   */
  readonly transport?: WorkerTransport;
  /** Largest message either way, in bytes (both transports). Default 100 MiB. */
  readonly maxMessageBytes?: number;
  /** The host service the worker calls back (sessions, host tools, its dependent heartbeat). Default: none. */
  readonly hostAddress?: string;
  /** Per-run secret checked on every call; required when `listen` is loopback TCP. Default: none. */
  readonly secret?: string;
  /** Calls the worker may run at once (the `thread` profile uses > 1). Default 1. */
  readonly concurrency?: number;
  /** Extra environment for the worker, over the host's own. `undefined` values remove a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Which of the host's environment variables the worker starts with: all (`true`), none
   * (`false`) or only the names listed; `env` applies on top. Default `true`.
   */
  readonly inheritEnv?: boolean | readonly string[];
  /** Working directory of the worker. Default: the host's. */
  readonly cwd?: string;
  /** Exit when the control socket (fd 3) reaches EOF, i.e. the host died (orphan layer 1). Default true. */
  readonly pipeLifeline?: boolean;
  /** Linux `PR_SET_PDEATHSIG` (orphan layer 2). Default true. Spawn from the main thread only. */
  readonly parentDeathSignal?: boolean;
  /** The worker's dependent heartbeat to the host; `false` turns it off. Default: on when `hostAddress` is set. */
  readonly hostHeartbeat?: WorkerHostHeartbeatOptions | false;
  /** Start the optional watchdog process (orphan layer 4). Default false. */
  readonly watchdog?: boolean;
  /** How long the worker's graceful self-termination may take before it hard-exits, in ms. Default 2000. */
  readonly shutdownGraceMs?: number;
  /** How long to wait for the readiness handshake, in milliseconds. Default 30000. */
  readonly startTimeoutMs?: number;
  /** Cap BLAS/OpenMP threads at 1 unless `env` (or the host's environment) sets them. Default true. */
  readonly capNativeThreads?: boolean;
  /** Aborts the start: the process is killed and the promise rejects with the reason. */
  readonly signal?: AbortSignal;
  /**
   * Called synchronously once the OS has given the process its pid, before it is ready: the
   * moment to record it durably (a host killed during start-up must leave enough to clean up).
   */
  readonly onSpawn?: (pid: number) => void;
  /** Every line the worker writes to stdout or stderr (plain text). Default: kept only for error messages. */
  readonly onOutput?: (line: string, stream: "stdout" | "stderr") => void;
  /** Every record of the worker's Python logging (from its control socket, never from its output). Default: dropped. */
  readonly onLog?: (record: WorkerLogRecord) => void;
}

/** A started, ready worker process. */
export interface WorkerProcess {
  readonly workerId: string;
  readonly pid: number;
  /** The process group the worker leads (it is spawned detached): equals `pid`. */
  readonly pgid: number;
  /** Where the worker serves. */
  readonly address: string;
  /** A client for the worker, open for the worker's lifetime. */
  readonly client: WorkerClient;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<WorkerExit>;
  /** How the process exited, once it has. */
  readonly exit: WorkerExit | undefined;
  /** The last lines the worker wrote to stdout/stderr. */
  outputTail(): string;
}

const CONTROL_FD = 3;

/** The worker's argv after `python`. */
function workerArgs(o: SpawnWorkerOptions): string[] {
  return [
    ...bridgeModuleArgs("snakepit_bridge"),
    ...workerFlags(o, o.adapter, o.runId),
    "--control-fd",
    String(CONTROL_FD),
  ];
}

/**
 * Starts one Python worker and resolves once it is serving. Readiness comes over an inherited
 * control socket (fd 3), written by the worker only after its server is bound — never parsed
 * from stdout. The same socket is the worker's lifeline: when the host dies, the worker reads
 * EOF and exits. The worker leads its own process group, so it can be stopped as a tree.
 *
 * Rejects with `ADAPTER_LOAD_FAILED` (with the Python traceback in `details`),
 * `WORKER_START_FAILED` (exited early, output tail in `details`), `WORKER_START_TIMEOUT`,
 * `PYTHON_NOT_FOUND` or the abort reason; the process is gone by then (else `KILL_FAILED`: it
 * outlived SIGKILL, e.g. stuck in uninterruptible sleep).
 */
export function spawnWorker(options: SpawnWorkerOptions): Promise<WorkerProcess> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(SnakepitError.from(signal.reason, "ABORTED"));
  let spawned: SpawnedPython;
  const frames = options.transport === "frames";
  try {
    checkTransport(options);
    spawned = spawnPython({
      ...options,
      args: workerArgs(options),
      fd3: "pipe",
      fd4: frames ? "pipe" : undefined,
    });
  } catch (err) {
    return Promise.reject(err);
  }
  const { child, tail, spawnFailed } = spawned;
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let exit: WorkerExit | undefined;
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once("exit", (code, sig) => {
      exit = { code, signal: sig };
      resolve(exit);
    });
  });
  return awaitWorkerReady(options, options.adapter, {
    pid: child.pid,
    control: child.stdio[CONTROL_FD] as Socket | null,
    frames: frames ? ((child.stdio[FRAMES_FD] as Socket | null) ?? undefined) : undefined,
    tail,
    exited,
    exit: () => exit,
    spawnFailed,
  });
}
