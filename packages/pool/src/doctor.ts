import { isSnakepitError } from "@snakepit/errors";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { checkAdapter } from "@snakepit/python-bridge/internal";

/** Options of {@link runDoctor} and {@link diagnose}. */
export interface DoctorOptions {
  /** An adapter to import and list the tools of. Default: none (only the environment is checked). */
  readonly adapter?: string;
  /** The interpreter to check. Default: what a pool would use. */
  readonly pythonExecutable?: string;
  readonly signal?: AbortSignal;
  /** Where the report goes, a line at a time (only {@link runDoctor}). Default: `console.log`. */
  readonly print?: (line: string) => void;
}

/** One failed check of {@link diagnose}: what failed, its error code, and what to do. */
export interface DoctorProblem {
  readonly check: "python" | "bridge" | "adapter";
  /** A `SnakepitError` code, or `ADAPTER_LOAD_FAILED` / `ADAPTER_HAS_NO_TOOLS` for the adapter. */
  readonly code: string;
  readonly message: string;
  /** What to do about it. */
  readonly fix: string;
}

/**
 * What `snakepit doctor` found; also the shape of `snakepit doctor --json`. A check that could
 * not run (because an earlier one failed) is `null`.
 */
export interface DoctorReport {
  /** True when every check that ran passed (and there is no problem). */
  readonly ok: boolean;
  readonly python: {
    readonly executable: string;
    readonly version: string;
    /** Where the interpreter came from: `option`, `env`, `cached-venv` or `created-venv`. */
    readonly source: string;
    readonly grpcio: string;
    readonly protobuf: string;
  } | null;
  /**
   * The `snakepit_bridge` workers will run: its version, whether it is `installed` in the
   * interpreter (it wins) or the copy `bundled` with `@snakepit/python-bridge`, and its directory.
   */
  readonly bridge: {
    readonly version: string;
    readonly source: string;
    readonly path: string;
  } | null;
  readonly adapter: {
    readonly spec: string;
    readonly tools: readonly string[];
  } | null;
  readonly problems: readonly DoctorProblem[];
}

/**
 * The checks of `snakepit doctor`, as data: the Python environment a pool would use (creating
 * the cached venv if needed; its progress goes to stderr), that the bridge imports, and that
 * the adapter loads and exposes at least one tool. Never rejects for a failed check: that is a
 * problem in the report.
 */
export async function diagnose(options: DoctorOptions = {}): Promise<DoctorReport> {
  const problems: DoctorProblem[] = [];
  const done = (rest: Omit<DoctorReport, "ok" | "problems">): DoctorReport => ({
    ok: problems.length === 0,
    ...rest,
    problems,
  });
  let env: Awaited<ReturnType<typeof resolvePythonEnvironment>>;
  try {
    env = await resolvePythonEnvironment({
      pythonExecutable: options.pythonExecutable,
      signal: options.signal,
    });
  } catch (err) {
    problems.push({
      check: "python",
      code: isSnakepitError(err) ? err.code : "PYTHON_ENV_FAILED",
      message: (err as Error).message,
      fix: "Follow the message above, or pass --python /path/to/python with grpcio and protobuf installed.",
    });
    return done({ python: null, bridge: null, adapter: null });
  }
  const python = {
    executable: env.executable,
    version: env.pythonVersion,
    source: env.source,
    grpcio: env.grpcioVersion,
    protobuf: env.protobufVersion,
  };
  let check: Awaited<ReturnType<typeof checkAdapter>>;
  try {
    check = await checkAdapter(env.executable, options.adapter, { signal: options.signal });
  } catch (err) {
    problems.push({
      check: "bridge",
      code: isSnakepitError(err) ? err.code : "PYTHON_DEPENDENCY_MISSING",
      message: (err as Error).message,
      fix: "The interpreter cannot import snakepit_bridge: fix the error above.",
    });
    return done({ python, bridge: null, adapter: null });
  }
  const bridge = { version: check.bridge, source: env.bridge.source, path: env.bridge.path };
  if (options.adapter === undefined) return done({ python, bridge, adapter: null });
  if (!check.ok) {
    const traceback = check.error?.traceback ? `\n${check.error.traceback.trimEnd()}` : "";
    problems.push({
      check: "adapter",
      code: "ADAPTER_LOAD_FAILED",
      message: `${check.error?.type}: ${check.error?.message}${traceback}`,
      fix: "Fix the import error above (a missing package: install it into the interpreter shown above).",
    });
    return done({ python, bridge, adapter: { spec: options.adapter, tools: [] } });
  }
  if (check.tools.length === 0) {
    problems.push({
      check: "adapter",
      code: "ADAPTER_HAS_NO_TOOLS",
      message: `${options.adapter} loaded but exposes no tools, so a pool could call nothing in it`,
      fix: "Point --adapter at your adapter (module:Class or file.py) and mark its methods or functions with @tool.",
    });
  }
  return done({ python, bridge, adapter: { spec: options.adapter, tools: check.tools } });
}

/** {@link diagnose}'s report for people, one line per check (`ok  ` or `FAIL`). */
export function formatDoctorReport(report: DoctorReport, adapterAsked: boolean): string[] {
  const lines: string[] = [];
  const fail = (p: DoctorProblem) => {
    lines.push(`FAIL ${p.check === "adapter" ? "adapter" : p.check}: [${p.code}] ${p.message}`);
    lines.push(`     ${p.fix}`);
  };
  const problem = (check: DoctorProblem["check"]) => report.problems.find((p) => p.check === check);
  const { python, bridge, adapter } = report;
  if (python === null) {
    const p = problem("python");
    if (p !== undefined) fail(p);
    return lines;
  }
  lines.push(`ok   Python ${python.version} at ${python.executable} (${python.source})`);
  lines.push(`ok   grpcio ${python.grpcio}, protobuf ${python.protobuf}`);
  if (bridge === null) {
    const p = problem("bridge");
    if (p !== undefined) fail(p);
    return lines;
  }
  lines.push(`ok   snakepit_bridge ${bridge.version} imports (${bridge.source}, ${bridge.path})`);
  if (!adapterAsked) {
    lines.push("     (pass --adapter module:Class or file.py to check an adapter)");
    return lines;
  }
  const p = problem("adapter");
  if (p !== undefined) fail(p);
  else if (adapter !== null)
    lines.push(
      `ok   adapter ${adapter.spec}: ${adapter.tools.length} tools (${adapter.tools.join(", ")})`,
    );
  return lines;
}

/**
 * `snakepit doctor`: runs {@link diagnose} and prints its report a line at a time. Resolves true
 * when everything works.
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<boolean> {
  const print = options.print ?? console.log;
  const report = await diagnose(options);
  for (const line of formatDoctorReport(report, options.adapter !== undefined)) print(line);
  return report.ok;
}
