import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { SnakepitError } from "@snakepit/errors";
import { type BridgeSource, rememberBridgeSource } from "./bridge-location.js";
import { bridgePythonDir, bridgeRequirementsFile } from "./bridge-paths.js";
import { chooseInstaller, findOnPath, type VenvInstaller, venvCommands } from "./venv-installer.js";
import { acquireVenvLock } from "./venv-lock.js";
import { createVenvProgress, type ProgressStream, type VenvProgress } from "./venv-progress.js";

/** Options of {@link resolvePythonEnvironment}. */
export interface ResolvePythonOptions {
  /** Use exactly this interpreter; it must already have the bridge's requirements. Default: `$SNAKEPIT_PYTHON`, else a cached venv. */
  readonly pythonExecutable?: string;
  /** Where the automatic venv lives. Default: `$SNAKEPIT_CACHE_DIR`, `$XDG_CACHE_HOME/snakepit` or `~/.cache/snakepit`. */
  readonly cacheDir?: string;
  /** Create the cached venv when it is missing. Default true. */
  readonly createVenv?: boolean;
  /** The interpreter that creates the venv. Default: `python3`, then `python`. */
  readonly basePython?: string;
  /** Every output line of the venv and install commands while a venv is created. Default: none. */
  readonly onProgress?: (line: string) => void;
  /**
   * Where a person sees the first-run venv creation: a line per phase (a spinner when it is a
   * TTY), whatever the logger; `false` for silence. Default: `process.stderr`, unless
   * `$SNAKEPIT_PROGRESS` is `0`.
   */
  readonly progress?: ProgressStream | false;
  /**
   * What builds the venv: `auto` uses `uv` when it is on `PATH` (much faster), else `python -m
   * venv` + pip. Default: `$SNAKEPIT_INSTALLER`, else `auto`.
   */
  readonly installer?: "auto" | "uv" | "pip";
  readonly signal?: AbortSignal;
}

/** A Python interpreter that can run workers. */
export interface PythonEnvironment {
  readonly executable: string;
  readonly pythonVersion: string;
  readonly grpcioVersion: string;
  readonly protobufVersion: string;
  /** Where it came from. */
  readonly source: "option" | "env" | "cached-venv" | "created-venv";
  /**
   * The `snakepit_bridge` workers run: `installed` in the interpreter (or on your `PYTHONPATH`),
   * which wins, else the copy `bundled` in this package.
   */
  readonly bridge: {
    readonly source: BridgeSource;
    readonly version: string;
    /** The package directory. */
    readonly path: string;
  };
}

interface ProbeResult {
  ok: boolean;
  python?: string;
  grpcio?: string;
  protobuf?: string;
  bridge_source?: BridgeSource;
  bridge_version?: string;
  bridge_path?: string;
  error?: string;
}

// Finds the snakepit_bridge the interpreter imports on its own (installed wins), else puts the
// bundled copy (argv[1]) first, as a worker gets it; then imports what a worker imports first,
// including the generated stubs, which check the grpcio and protobuf versions they were made for.
const PROBE = `
import sys
if sys.path[:1] == [""]: sys.path.pop(0)  # not the working directory's grpc.py (see bridgeModuleArgs)
import importlib.util, json, os
out = {"ok": False, "python": sys.version.split()[0]}
try:
    installed = importlib.util.find_spec("snakepit_bridge") is not None
    out["bridge_source"] = "installed" if installed else "bundled"
    if not installed:
        sys.path.insert(0, sys.argv[1])
    import grpc, google.protobuf
    out["grpcio"] = grpc.__version__
    out["protobuf"] = google.protobuf.__version__
    import snakepit_bridge
    out["bridge_version"] = snakepit_bridge.__version__
    out["bridge_path"] = os.path.dirname(snakepit_bridge.__file__)
    from snakepit_bridge.gen import worker_pb2_grpc, host_pb2_grpc
    out["ok"] = True
except Exception as e:
    out["error"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
`;

function probe(
  executable: string,
  signal: AbortSignal | undefined,
): Promise<ProbeResult | "missing"> {
  return new Promise((resolve) => {
    execFile(
      executable,
      ["-c", PROBE, bridgePythonDir],
      { env: process.env, signal, timeout: 60_000 },
      (err, stdout) => {
        if (err !== null && (err as NodeJS.ErrnoException).code === "ENOENT")
          return resolve("missing");
        try {
          resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ProbeResult);
        } catch {
          resolve({ ok: false, error: err?.message ?? "the interpreter printed nothing" });
        }
      },
    );
  });
}

function defaultCacheDir(): string {
  return (
    process.env.SNAKEPIT_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "snakepit")
  );
}

function venvPython(dir: string): string {
  return process.platform === "win32"
    ? join(dir, "Scripts", "python.exe")
    : join(dir, "bin", "python");
}

function toEnvironment(
  executable: string,
  result: ProbeResult,
  source: PythonEnvironment["source"],
): PythonEnvironment {
  const bridgeSource = result.bridge_source ?? "bundled";
  rememberBridgeSource(executable, bridgeSource);
  return {
    executable,
    pythonVersion: result.python ?? "",
    grpcioVersion: result.grpcio ?? "",
    protobufVersion: result.protobuf ?? "",
    source,
    bridge: {
      source: bridgeSource,
      version: result.bridge_version ?? "",
      path: result.bridge_path ?? "",
    },
  };
}

async function checkExplicit(
  executable: string,
  source: "option" | "env",
  signal?: AbortSignal,
): Promise<PythonEnvironment> {
  const result = await probe(executable, signal);
  const origin = source === "option" ? "`pythonExecutable`" : "`SNAKEPIT_PYTHON`";
  if (result === "missing") {
    throw new SnakepitError(
      "PYTHON_NOT_FOUND",
      `Python not found at ${executable} (from ${origin}). Point ${origin} at a Python 3.10+ interpreter, or unset it to let Snakepit create a venv.`,
    );
  }
  if (!result.ok) {
    throw new SnakepitError(
      "PYTHON_DEPENDENCY_MISSING",
      `Python at ${executable} (from ${origin}) cannot run the bridge: ${result.error}. Run: ${executable} -m pip install -r ${bridgeRequirementsFile}`,
      { details: { ...result } },
    );
  }
  return toEnvironment(executable, result, source);
}

function run(cmd: string, args: string[], options: ResolvePythonOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "pipe"],
      signal: options.signal,
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" },
    });
    const lines: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        lines.push(line);
        if (lines.length > 30) lines.shift();
        options.onProgress?.(line);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`\`${cmd} ${args.join(" ")}\` exited with code ${code}:\n${lines.join("\n")}`),
        );
    });
  });
}

const resolved = new Map<string, Promise<PythonEnvironment>>();

/**
 * Finds a Python interpreter that can run workers: the explicit `pythonExecutable`, else
 * `$SNAKEPIT_PYTHON`, else a venv in the cache directory keyed by the bridge's requirements,
 * created on first use: with `uv` when it is on `PATH`, else `venv` + pip; progress on stderr
 * (`progress`); under a lock file, so concurrent first runs (other processes too) build it once
 * and the others wait and reuse it; a venv left half-built by an interrupted run is rebuilt.
 * Results are memoised per process.
 *
 * Rejects with `PYTHON_NOT_FOUND`, `PYTHON_DEPENDENCY_MISSING` or `PYTHON_ENV_FAILED`, each with
 * a message that says what to run.
 */
export function resolvePythonEnvironment(
  options: ResolvePythonOptions = {},
): Promise<PythonEnvironment> {
  const key = JSON.stringify([
    options.pythonExecutable,
    process.env.SNAKEPIT_PYTHON,
    options.cacheDir,
    options.createVenv,
    options.basePython,
    options.installer,
    process.env.PYTHONPATH,
  ]);
  let pending = resolved.get(key);
  if (pending === undefined) {
    pending = doResolve(options);
    resolved.set(key, pending);
    // A failure is not cached: the user may fix the environment and try again.
    pending.catch(() => resolved.delete(key));
  }
  return pending;
}

async function doResolve(options: ResolvePythonOptions): Promise<PythonEnvironment> {
  if (options.pythonExecutable !== undefined)
    return checkExplicit(options.pythonExecutable, "option", options.signal);
  const fromEnv = process.env.SNAKEPIT_PYTHON;
  if (fromEnv !== undefined && fromEnv !== "") return checkExplicit(fromEnv, "env", options.signal);

  const requirements = readFileSync(bridgeRequirementsFile);
  const hash = createHash("sha256").update(requirements).digest("hex").slice(0, 12);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const venvDir = join(cacheDir, `venv-${hash}`);
  const executable = venvPython(venvDir);
  const stamp = join(venvDir, STAMP_FILE);
  const cached = await usableVenv(executable, stamp, hash, options.signal);
  if (cached !== undefined) return toEnvironment(executable, cached, "cached-venv");
  if (options.createVenv === false) {
    throw new SnakepitError(
      "PYTHON_NOT_FOUND",
      `No Python environment at ${venvDir} and \`createVenv\` is false. Run \`npx snakepit doctor\` or pass \`pythonExecutable\`.`,
    );
  }

  const progress = createVenvProgress(
    options.progress ?? (process.env.SNAKEPIT_PROGRESS === "0" ? false : process.stderr),
  );
  await mkdir(cacheDir, { recursive: true });
  // Concurrent first runs (several processes, or several pools) build the venv once: the
  // others wait here, then find it ready.
  const lock = await acquireVenvLock(join(cacheDir, `venv-${hash}.lock`), {
    signal: options.signal,
    onWait: (pid) =>
      progress.note(
        `waiting for process ${pid}, which is creating the Python environment in ${venvDir}`,
      ),
  });
  try {
    const ready = await usableVenv(executable, stamp, hash, options.signal);
    if (ready !== undefined) return toEnvironment(executable, ready, "cached-venv");
    return await createVenv({ options, venvDir, executable, stamp, hash, progress });
  } finally {
    await lock.release();
  }
}

// Written into a venv once it is complete and verified: a venv without it (an interrupted
// creation) or whose probe fails is rebuilt from scratch.
const STAMP_FILE = ".snakepit-complete";

async function usableVenv(
  executable: string,
  stamp: string,
  hash: string,
  signal: AbortSignal | undefined,
): Promise<ProbeResult | undefined> {
  const stamped = await readFile(stamp, "utf8").then(
    (text) => (JSON.parse(text) as { requirements?: string }).requirements === hash,
    () => false,
  );
  if (!stamped || !existsSync(executable)) return undefined;
  const result = await probe(executable, signal);
  return result !== "missing" && result.ok ? result : undefined;
}

async function findBasePython(options: ResolvePythonOptions): Promise<string> {
  const candidates =
    options.basePython !== undefined ? [options.basePython] : ["python3", "python"];
  for (const candidate of candidates) {
    if ((await probe(candidate, options.signal)) !== "missing") return candidate;
  }
  throw new SnakepitError(
    "PYTHON_NOT_FOUND",
    `No Python interpreter found (tried ${candidates.join(", ")}). Install Python 3.10+ with venv support (e.g. \`apt-get install python3 python3-venv\`), or pass \`pythonExecutable\`.`,
  );
}

async function createVenv(o: {
  options: ResolvePythonOptions;
  venvDir: string;
  executable: string;
  stamp: string;
  hash: string;
  progress: VenvProgress;
}): Promise<PythonEnvironment> {
  const { options, venvDir, executable, progress } = o;
  const base = await findBasePython(options);
  const { installer, uv } = chooseInstaller(
    options.installer ?? process.env.SNAKEPIT_INSTALLER ?? "auto",
    findOnPath("uv", process.env.PATH),
  );
  const commands = venvCommands({
    installer,
    uv,
    basePython: base,
    venvDir,
    executable,
    requirements: bridgeRequirementsFile,
  });
  const startedAt = performance.now();
  try {
    if (existsSync(venvDir)) {
      progress.note(`the Python environment in ${venvDir} is incomplete or broken; rebuilding it`);
      await rm(venvDir, { recursive: true, force: true });
    }
    const hint = installer === "pip" ? "; uv on PATH makes this much faster" : "";
    progress.phase(`first run: creating a Python environment in ${venvDir} (${installer})`);
    options.onProgress?.(`snakepit: creating a Python environment in ${venvDir}`);
    await run(...commands.create, options);
    progress.phase(`installing grpcio and protobuf with ${installerName(installer)}${hint}`);
    options.onProgress?.(`snakepit: installing ${bridgeRequirementsFile}`);
    await run(...commands.install, options);
    progress.phase("checking the new environment");
  } catch (cause) {
    progress.finish("creating the Python environment failed");
    if (options.signal?.aborted) throw SnakepitError.from(options.signal.reason, "ABORTED");
    throw new SnakepitError(
      "PYTHON_ENV_FAILED",
      `Could not create the Python environment in ${venvDir}: ${(cause as Error).message}\nFix the error above, or create an environment yourself (\`${base} -m venv .venv && .venv/bin/pip install -r ${bridgeRequirementsFile}\`) and pass its python as \`pythonExecutable\`.`,
      { cause },
    );
  }
  const result = await probe(executable, options.signal);
  if (result === "missing" || !result.ok) {
    progress.finish("the new Python environment does not work");
    throw new SnakepitError(
      "PYTHON_ENV_FAILED",
      `The new environment in ${venvDir} cannot run the bridge: ${result === "missing" ? "python missing" : result.error}`,
    );
  }
  await writeFile(
    o.stamp,
    `${JSON.stringify({ requirements: o.hash, installer, createdAt: new Date().toISOString() })}\n`,
  );
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  progress.finish(`Python environment ready in ${seconds} s (later runs reuse it)`);
  return toEnvironment(executable, result, "created-venv");
}

function installerName(installer: VenvInstaller): string {
  return installer === "uv" ? "uv" : "pip (about half a minute)";
}
