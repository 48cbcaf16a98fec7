import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { type ErrorCode, SnakepitError } from "@snakepit/errors";
import { bridgePythonDir } from "./bridge-paths.js";
import {
  awaitForkedWorker,
  type ForkChannels,
  type ForkWorkerOptions,
  forkedWorkerArgs,
  forkedWorkerEnv,
} from "./forked-worker.js";
import { splitLines } from "./line-splitter.js";
import { OutputTail } from "./output-tail.js";
import { waitUntilGone } from "./process-gone.js";
import type { WorkerExit, WorkerProcess } from "./spawn-worker.js";

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
  /** Resolves when the fork server has exited (never rejects). Its workers die with it. */
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

const NATIVE_THREAD_VARS = [
  "OMP_NUM_THREADS",
  "OPENBLAS_NUM_THREADS",
  "MKL_NUM_THREADS",
  "NUMEXPR_NUM_THREADS",
  "VECLIB_MAXIMUM_THREADS",
];
const CONTROL_FD = 3;
const CLOSE_GRACE_MS = 5000;

/**
 * Whether workers can be forked here: Linux only (macOS can fork, but CPython defaults to spawn
 * there because system frameworks may crash in a forked child), and not when
 * `SNAKEPIT_START_METHOD=spawn` forces plain spawning. When false, use `spawnWorker`.
 */
export function canFork(): boolean {
  return process.platform === "linux" && process.env.SNAKEPIT_START_METHOD !== "spawn";
}

function serverEnv(o: StartForkServerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (o.capNativeThreads !== false) for (const name of NATIVE_THREAD_VARS) env[name] ??= "1";
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const extra = env.PYTHONPATH;
  env.PYTHONPATH = extra ? `${bridgePythonDir}:${extra}` : bridgePythonDir;
  env.PYTHONUNBUFFERED = "1";
  delete env.SNAKEPIT_SECRET; // per worker, applied after its fork
  return env;
}

function serverArgs(o: StartForkServerOptions): string[] {
  const args = ["-m", "snakepit_bridge.forkserver", "--adapter", o.adapter];
  args.push("--snakepit-run-id", o.runId, "--host-pid", String(process.pid));
  args.push("--control-fd", String(CONTROL_FD));
  if (o.preload !== undefined && o.preload.length > 0) args.push("--preload", o.preload.join(","));
  if (o.parentDeathSignal === false) args.push("--no-parent-death-signal");
  return args;
}

interface ServerMessage {
  event?: string;
  ref?: number;
  stream?: keyof ForkChannels;
  worker_id?: string;
  pid?: number;
  code?: number | string | null;
  signal?: NodeJS.Signals | null;
  message?: string;
  type?: string;
  traceback?: string;
}

interface PendingFork {
  readonly channels: Partial<Record<keyof ForkChannels, Socket>>;
  readonly tail: OutputTail;
  readonly onOutput: ForkWorkerOptions["onOutput"];
  forked(pid: number): void;
  failed(error: SnakepitError): void;
}

interface ChildRecord {
  readonly pid: number;
  readonly channels: ForkChannels;
  exit: WorkerExit | undefined;
  readonly exited: Promise<WorkerExit>;
  finish(exit: WorkerExit): void;
}

class ForkServerProcess implements ForkServer {
  readonly #child: ChildProcess;
  readonly #options: StartForkServerOptions;
  readonly #tail: OutputTail;
  readonly #pending = new Map<number, PendingFork>();
  readonly #children = new Map<number, ChildRecord>();
  #nextRef = 0;
  #exit: WorkerExit | undefined;
  #closing: Promise<void> | undefined;
  readonly exited: Promise<WorkerExit>;

  constructor(child: ChildProcess, options: StartForkServerOptions, tail: OutputTail) {
    this.#child = child;
    this.#options = options;
    this.#tail = tail;
    this.exited = new Promise<WorkerExit>((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        this.#onServerExit();
        resolve(this.#exit);
      });
    });
    child.on("message", (message: ServerMessage, handle?: Socket) =>
      this.#onMessage(message, handle),
    );
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }
  get adapter(): string {
    return this.#options.adapter;
  }
  get runId(): string {
    return this.#options.runId;
  }
  get exit(): WorkerExit | undefined {
    return this.#exit;
  }
  outputTail(): string {
    return this.#tail.toString();
  }

  async fork(options: ForkWorkerOptions): Promise<WorkerProcess> {
    for (const name of ["pythonExecutable", "adapter", "runId"] as const) {
      const value = options[name];
      if (value !== undefined && value !== this.#options[name])
        throw new SnakepitError(
          "INVALID_OPTIONS",
          `Expected \`${name}\` to equal the fork server's \`${this.#options[name]}\`, got \`${value}\` (string)`,
        );
    }
    if (options.signal?.aborted) throw SnakepitError.from(options.signal.reason, "ABORTED");
    if (this.#closing !== undefined || this.#exit !== undefined || !this.#child.connected)
      throw new SnakepitError(
        "WORKER_START_FAILED",
        `Cannot fork worker ${options.workerId}: the fork server is ${this.#exit ? "gone" : "closing"}`,
      );
    const ref = this.#nextRef++;
    const tail = new OutputTail();
    const pid = await new Promise<number>((forked, failed) => {
      this.#pending.set(ref, { channels: {}, tail, onOutput: options.onOutput, forked, failed });
      const request = {
        op: "fork",
        ref,
        worker_id: options.workerId,
        args: forkedWorkerArgs(options, this.adapter, this.runId),
        env: forkedWorkerEnv(options),
        cwd: options.cwd ?? null,
      };
      this.#child.send(request, (error) => {
        if (error) this.#failPending(ref, "WORKER_START_FAILED", error.message);
      });
    });
    const record = this.#children.get(pid);
    if (record === undefined) throw new SnakepitError("INTERNAL", `No record of forked pid ${pid}`);
    options.onSpawn?.(pid);
    return awaitForkedWorker(options, this.adapter, {
      pid,
      channels: record.channels,
      tail,
      exited: record.exited,
      exit: () => record.exit,
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // EOF on its channel makes the fork server exit; its workers follow (PDEATHSIG, server pipe).
    if (this.#child.connected) this.#child.disconnect();
    const force = setTimeout(() => signalGroup(this.pid, "SIGKILL"), CLOSE_GRACE_MS);
    force.unref();
    await this.exited;
    clearTimeout(force);
    await Promise.all(
      [...this.#children.values()].map(async (record) => {
        const kill = setTimeout(() => signalGroup(record.pid, "SIGKILL"), CLOSE_GRACE_MS);
        kill.unref();
        await record.exited;
        clearTimeout(kill);
      }),
    );
  }

  #onMessage(message: ServerMessage, handle: Socket | undefined): void {
    const pending = message.ref === undefined ? undefined : this.#pending.get(message.ref);
    switch (message.event) {
      case "fd": {
        if (handle === undefined || message.stream === undefined) return;
        if (pending === undefined) return void handle.destroy();
        pending.channels[message.stream] = handle;
        const stream = message.stream;
        // Read output at once, so nothing is lost before the worker is ready.
        if (stream !== "control")
          splitLines(handle, (line) => {
            pending.tail.push(line);
            pending.onOutput?.(line, stream);
          });
        return;
      }
      case "forked":
        this.#onForked(message, pending);
        return;
      case "fork-failed":
        if (message.ref !== undefined)
          this.#failPending(message.ref, "WORKER_START_FAILED", message.message ?? "fork failed");
        return;
      case "exited": {
        const record = message.pid === undefined ? undefined : this.#children.get(message.pid);
        record?.finish({
          code: typeof message.code === "number" ? message.code : null,
          signal: message.signal ?? null,
        });
        return;
      }
      default:
        handle?.destroy();
    }
  }

  #onForked(message: ServerMessage, pending: PendingFork | undefined): void {
    const { pid } = message;
    if (pending === undefined || message.ref === undefined || typeof pid !== "number") return;
    this.#pending.delete(message.ref);
    const { control, stdout, stderr } = pending.channels;
    if (control === undefined || stdout === undefined || stderr === undefined) {
      for (const socket of [control, stdout, stderr]) socket?.destroy();
      signalGroup(pid, "SIGKILL");
      pending.failed(
        new SnakepitError("PROTOCOL_ERROR", `Fork server sent pid ${pid} without its sockets`),
      );
      return;
    }
    let finish: (exit: WorkerExit) => void = () => undefined;
    const record: ChildRecord = {
      pid,
      channels: { control, stdout, stderr },
      exit: undefined,
      exited: new Promise<WorkerExit>((resolve) => {
        finish = resolve;
      }),
      finish: (exit) => {
        if (record.exit !== undefined) return;
        record.exit = exit;
        this.#children.delete(pid);
        finish(exit);
      },
    };
    this.#children.set(pid, record);
    pending.forked(pid);
  }

  #failPending(ref: number, code: ErrorCode, message: string): void {
    const pending = this.#pending.get(ref);
    if (pending === undefined) return;
    this.#pending.delete(ref);
    for (const socket of Object.values(pending.channels)) socket?.destroy();
    pending.failed(new SnakepitError(code, `Fork server could not fork: ${message}`));
  }

  #onServerExit(): void {
    for (const ref of [...this.#pending.keys()])
      this.#failPending(ref, "WORKER_START_FAILED", "the fork server exited");
    // Nobody reaps the orphans for us now: a child is gone once its control socket has closed
    // and its pid is no longer running (exit status unknown).
    for (const record of this.#children.values()) {
      const closed = record.channels.control.closed
        ? Promise.resolve()
        : new Promise<void>((resolve) => record.channels.control.once("close", () => resolve()));
      void closed
        .then(() => waitUntilGone(record.pid))
        .then(() => record.finish({ code: null, signal: null }));
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts a fork server: one Python process that imports the bridge, grpcio, the adapter's module
 * and `preload` once, then forks ready-made workers on request ({@link ForkServer.fork}). It
 * leads its own process group, dies with the host (EOF of its channel, PDEATHSIG), and its
 * workers die with it. Resolves once the imports are done; rejects with `ADAPTER_LOAD_FAILED`
 * (a preload failed, traceback in `details`), `WORKER_START_FAILED`, `WORKER_START_TIMEOUT`,
 * `PYTHON_NOT_FOUND`, `UNSUPPORTED_PLATFORM` (see {@link canFork}) or the abort reason.
 */
export function startForkServer(options: StartForkServerOptions): Promise<ForkServer> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(SnakepitError.from(signal.reason, "ABORTED"));
  if (process.platform !== "linux")
    return Promise.reject(
      new SnakepitError(
        "UNSUPPORTED_PLATFORM",
        `Forking workers is not supported on ${process.platform}`,
      ),
    );
  const tail = new OutputTail();
  let child: ChildProcess;
  try {
    child = spawn(options.pythonExecutable, serverArgs(options), {
      cwd: options.cwd,
      env: serverEnv(options),
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      detached: true,
    });
  } catch (cause) {
    return Promise.reject(
      new SnakepitError(
        "PYTHON_NOT_FOUND",
        `Could not start Python at ${options.pythonExecutable}: ${(cause as Error).message}`,
        { cause },
      ),
    );
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const readable = child[stream];
    if (readable === null) continue;
    splitLines(readable, (line) => {
      tail.push(line);
      options.onOutput?.(line, stream);
    });
  }
  const server = new ForkServerProcess(child, options, tail);
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;

  return new Promise<ForkServer>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        fail(
          new SnakepitError(
            "WORKER_START_TIMEOUT",
            `Fork server did not report ready within ${startTimeoutMs} ms`,
            { details: { output: tail.toString() } },
          ),
        ),
      startTimeoutMs,
    );
    timer.unref();
    const onAbort = () => fail(SnakepitError.from(signal?.reason, "ABORTED"));
    signal?.addEventListener("abort", onAbort, { once: true });
    function cleanup() {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      child.off("message", onMessage);
    }
    function fail(error: SnakepitError) {
      if (settled) return;
      cleanup();
      signalGroup(child.pid ?? -1, "SIGKILL");
      void server.exited.then(() => reject(error));
    }
    function onMessage(message: ServerMessage) {
      if (message.event === "ready") {
        cleanup();
        resolve(server);
      } else if (message.event === "error") {
        fail(
          new SnakepitError(
            "ADAPTER_LOAD_FAILED",
            `Fork server could not import "${options.adapter}" or a preload module: ${message.type ?? "Error"}: ${message.message ?? ""}`,
            {
              details: {
                type: message.type,
                message: message.message,
                traceback: message.traceback,
                adapter: options.adapter,
              },
            },
          ),
        );
      }
    }
    child.on("message", onMessage);
    child.once("error", (cause: NodeJS.ErrnoException) => {
      if (settled) return;
      cleanup();
      const code: ErrorCode =
        cause.code === "ENOENT" || cause.code === "EACCES"
          ? "PYTHON_NOT_FOUND"
          : "WORKER_START_FAILED";
      reject(
        new SnakepitError(
          code,
          `Could not start Python at ${options.pythonExecutable}: ${cause.message}`,
          {
            cause,
          },
        ),
      );
    });
    void server.exited.then((e) => {
      if (settled) return;
      cleanup();
      setImmediate(() =>
        reject(
          new SnakepitError(
            "WORKER_START_FAILED",
            `Fork server exited (${e.signal ?? `exit code ${e.code}`}) before it was ready.\n${tail.toString()}`,
            { details: { exitCode: e.code, signal: e.signal, output: tail.toString() } },
          ),
        ),
      );
    });
  });
}
