import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { SnakepitError } from "@snakepit/errors";
import { bridgePythonDir, bridgeRequirementsFile } from "./bridge-paths.js";

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
  /** Progress lines while a venv is created (pip's output). Default: none. */
  readonly onProgress?: (line: string) => void;
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
}

interface ProbeResult {
  ok: boolean;
  python?: string;
  grpcio?: string;
  protobuf?: string;
  error?: string;
}

// Imports what a worker imports first, including the generated stubs, which check the grpcio
// and protobuf versions they were generated for.
const PROBE = `
import sys
if sys.path[:1] == [""]: sys.path.pop(0)  # not the working directory's grpc.py (see bridgeModuleArgs)
import json
out = {"ok": False, "python": sys.version.split()[0]}
try:
    import grpc, google.protobuf
    out["grpcio"] = grpc.__version__
    out["protobuf"] = google.protobuf.__version__
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
      ["-c", PROBE],
      { env: { ...process.env, PYTHONPATH: bridgePythonDir }, signal, timeout: 60_000 },
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
  return {
    executable,
    pythonVersion: result.python ?? "",
    grpcioVersion: result.grpcio ?? "",
    protobufVersion: result.protobuf ?? "",
    source,
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
      `Python not found at ${executable} (from ${origin}). Point ${origin} at a Python 3.9+ interpreter, or unset it to let Snakepit create a venv.`,
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
 * created on first use (pip's progress goes to `onProgress`). Results are memoised per process.
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
  const venvDir = join(options.cacheDir ?? defaultCacheDir(), `venv-${hash}`);
  const executable = venvPython(venvDir);
  if (existsSync(executable)) {
    const result = await probe(executable, options.signal);
    if (result !== "missing" && result.ok) return toEnvironment(executable, result, "cached-venv");
  }
  if (options.createVenv === false) {
    throw new SnakepitError(
      "PYTHON_NOT_FOUND",
      `No Python environment at ${venvDir} and \`createVenv\` is false. Run \`npx snakepit doctor\` or pass \`pythonExecutable\`.`,
    );
  }

  const candidates =
    options.basePython !== undefined ? [options.basePython] : ["python3", "python"];
  let base: string | undefined;
  for (const candidate of candidates) {
    if ((await probe(candidate, options.signal)) !== "missing") {
      base = candidate;
      break;
    }
  }
  if (base === undefined) {
    throw new SnakepitError(
      "PYTHON_NOT_FOUND",
      `No Python interpreter found (tried ${candidates.join(", ")}). Install Python 3.9+ with venv support (e.g. \`apt-get install python3 python3-venv\`), or pass \`pythonExecutable\`.`,
    );
  }
  try {
    await mkdir(venvDir, { recursive: true });
    options.onProgress?.(`snakepit: creating a Python environment in ${venvDir}`);
    await run(base, ["-m", "venv", venvDir], options);
    options.onProgress?.(`snakepit: installing ${bridgeRequirementsFile}`);
    await run(
      executable,
      ["-m", "pip", "install", "--progress-bar", "off", "-r", bridgeRequirementsFile],
      options,
    );
  } catch (cause) {
    if (options.signal?.aborted) throw SnakepitError.from(options.signal.reason, "ABORTED");
    throw new SnakepitError(
      "PYTHON_ENV_FAILED",
      `Could not create the Python environment in ${venvDir}: ${(cause as Error).message}\nFix the error above, or create an environment yourself (\`${base} -m venv .venv && .venv/bin/pip install -r ${bridgeRequirementsFile}\`) and pass its python as \`pythonExecutable\`.`,
      { cause },
    );
  }
  const result = await probe(executable, options.signal);
  if (result === "missing" || !result.ok) {
    throw new SnakepitError(
      "PYTHON_ENV_FAILED",
      `The new environment in ${venvDir} cannot run the bridge: ${result === "missing" ? "python missing" : result.error}`,
    );
  }
  return toEnvironment(executable, result, "created-venv");
}
