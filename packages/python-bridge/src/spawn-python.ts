import { type ChildProcess, spawn } from "node:child_process";
import { SnakepitError } from "@snakepit/errors";
import { bridgePythonPath } from "./bridge-location.js";
import { environmentVariables } from "./contract.js";
import { splitLines } from "./line-splitter.js";
import { OutputTail } from "./output-tail.js";
import { PROTOCOL_VERSION } from "./protocol-version.js";

const NATIVE_THREAD_VARS = [
  "OMP_NUM_THREADS",
  "OPENBLAS_NUM_THREADS",
  "MKL_NUM_THREADS",
  "NUMEXPR_NUM_THREADS",
  "VECLIB_MAXIMUM_THREADS",
];

/**
 * The arguments that make `python` run a bridge module the way `python -m <module>` does, but
 * without the working directory on `sys.path`: `-m` puts it first, so a `grpc.py` or
 * `snakepit_bridge.py` in the app's directory would be imported by every worker. `-P` (3.11+)
 * does the same, but older Pythons refuse it and the version is not known here, so a two-statement
 * `-c` bootstrap drops the working directory's entry (`''`) before anything else is imported, on
 * every version.
 */
export function bridgeModuleArgs(module: string): string[] {
  return [
    "-c",
    `import sys;sys.path[:1]==[""] and sys.path.pop(0);import runpy;runpy.run_module(${JSON.stringify(module)},run_name="__main__",alter_sys=True)`,
  ];
}

/** What a bridge process (a worker or a fork server) is started with. */
export interface SpawnPythonOptions {
  readonly pythonExecutable: string;
  readonly args: readonly string[];
  readonly cwd?: string | undefined;
  /** Extra environment over the host's; `undefined` values remove a variable. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Which of the host's environment variables the process starts with: all (`true`), none
   * (`false`) or only the names listed. `env` and Snakepit's own variables apply on top.
   * Default `true`.
   */
  readonly inheritEnv?: boolean | readonly string[] | undefined;
  /** Cap BLAS/OpenMP threads at 1 unless the environment sets them. Default true. */
  readonly capNativeThreads?: boolean | undefined;
  /** `SNAKEPIT_SECRET` for the process; never inherited from the host's environment. */
  readonly secret?: string | undefined;
  /** fd 3: the control socket of a worker, or Node's IPC channel of a fork server. */
  readonly fd3: "pipe" | "ipc";
  /** fd 4: a worker's frames socket (a socketpair, as libuv creates every stdio pipe). Default: none. */
  readonly fd4?: "pipe" | undefined;
  readonly onOutput?: ((line: string, stream: "stdout" | "stderr") => void) | undefined;
}

/** A spawned bridge process. */
export interface SpawnedPython {
  readonly child: ChildProcess;
  readonly tail: OutputTail;
  /**
   * Resolves with a coded error if the OS could not start the process (a missing interpreter is
   * reported asynchronously, by the `'error'` event); never resolves otherwise.
   */
  readonly spawnFailed: Promise<SnakepitError>;
}

/**
 * Spawns a bridge process detached (it leads its own process group), with the bundled copy of
 * `snakepit_bridge` on `PYTHONPATH` unless the interpreter has its own, the protocol version in
 * `SNAKEPIT_PROTOCOL`, unbuffered output, capped native threads, and every stdout/stderr line kept in a
 * tail (for error messages) and passed to `onOutput`. A spawn failure, thrown at once or reported
 * later, is `PYTHON_NOT_FOUND` (a missing or non-executable interpreter) or `WORKER_START_FAILED`.
 */
export function spawnPython(o: SpawnPythonOptions): SpawnedPython {
  const env = inheritedEnv(o.inheritEnv);
  if (o.capNativeThreads !== false) for (const name of NATIVE_THREAD_VARS) env[name] ??= "1";
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const pythonPath = bridgePythonPath(o.pythonExecutable, env.PYTHONPATH);
  if (pythonPath === "") delete env.PYTHONPATH;
  else env.PYTHONPATH = pythonPath;
  env.SNAKEPIT_PROTOCOL = String(PROTOCOL_VERSION);
  env.PYTHONUNBUFFERED = "1";
  if (o.secret !== undefined) env[environmentVariables.secret] = o.secret;
  else delete env[environmentVariables.secret];
  let child: ChildProcess;
  try {
    child = spawn(o.pythonExecutable, o.args, {
      cwd: o.cwd,
      env,
      stdio:
        o.fd4 === undefined
          ? ["ignore", "pipe", "pipe", o.fd3]
          : ["ignore", "pipe", "pipe", o.fd3, o.fd4],
      detached: true,
    });
  } catch (cause) {
    throw spawnError(cause, o.pythonExecutable);
  }
  // Listened to for the process's whole life: an `'error'` without a listener would crash the host.
  const spawnFailed = new Promise<SnakepitError>((resolve) => {
    child.on("error", (cause) => resolve(spawnError(cause, o.pythonExecutable)));
  });
  const tail = new OutputTail();
  for (const stream of ["stdout", "stderr"] as const) {
    const readable = child[stream];
    if (readable === null) continue;
    splitLines(readable, (line) => {
      tail.push(line);
      o.onOutput?.(line, stream);
    });
  }
  return { child, tail, spawnFailed };
}

/**
 * The one mapping of a spawn failure, thrown or reported by `'error'`: `PYTHON_NOT_FOUND` when
 * the interpreter is missing, not executable or not a valid path, else `WORKER_START_FAILED`.
 */
function spawnError(cause: unknown, pythonExecutable: string): SnakepitError {
  const errno = String((cause as NodeJS.ErrnoException).code);
  const notFound = errno === "ENOENT" || errno === "EACCES" || errno.startsWith("ERR_INVALID_ARG");
  const message = `Could not start Python at ${pythonExecutable}: ${(cause as Error).message}`;
  return notFound
    ? new SnakepitError(
        "PYTHON_NOT_FOUND",
        `${message}. Install Python 3.9+ or set \`pythonExecutable\`.`,
        { cause },
      )
    : new SnakepitError("WORKER_START_FAILED", message, { cause });
}

/** The part of the host's environment a bridge process starts with (see `inheritEnv`). */
function inheritedEnv(inherit: boolean | readonly string[] = true): NodeJS.ProcessEnv {
  if (inherit === true) return { ...process.env };
  const env: NodeJS.ProcessEnv = {};
  if (inherit !== false)
    for (const name of inherit) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}
