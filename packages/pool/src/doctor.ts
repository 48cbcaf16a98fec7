import { isSnakepitError } from "@snakepit/errors";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { checkAdapter } from "@snakepit/python-bridge/internal";

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** An adapter to import and list the tools of. Default: none (only the environment is checked). */
  readonly adapter?: string;
  /** The interpreter to check. Default: what a pool would use. */
  readonly pythonExecutable?: string;
  readonly signal?: AbortSignal;
  /** Where the report goes, a line at a time. Default: `console.log`. */
  readonly print?: (line: string) => void;
}

/**
 * `snakepit doctor`: checks the Python environment a pool would use (creating the cached venv
 * if needed, with progress), that the bridge imports, and that an adapter loads; prints what to
 * fix. Resolves true when everything works.
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<boolean> {
  const print = options.print ?? console.log;
  const mark = (ok: boolean) => (ok ? "ok  " : "FAIL");
  let env: Awaited<ReturnType<typeof resolvePythonEnvironment>>;
  try {
    env = await resolvePythonEnvironment({
      pythonExecutable: options.pythonExecutable,
      signal: options.signal,
      onProgress: (l) => print(`     ${l}`),
    });
  } catch (err) {
    print(
      `${mark(false)} Python environment: ${isSnakepitError(err) ? `[${err.code}] ` : ""}${(err as Error).message}`,
    );
    return false;
  }
  print(`${mark(true)} Python ${env.pythonVersion} at ${env.executable} (${env.source})`);
  print(`${mark(true)} grpcio ${env.grpcioVersion}, protobuf ${env.protobufVersion}`);
  const check = await checkAdapter(env.executable, options.adapter, { signal: options.signal });
  print(`${mark(check.ok || check.adapter !== null)} snakepit_bridge ${check.bridge} imports`);
  if (options.adapter === undefined) {
    print("     (pass --adapter module:Class or file.py to check an adapter)");
    return true;
  }
  if (!check.ok) {
    print(
      `${mark(false)} adapter ${options.adapter}: ${check.error?.type}: ${check.error?.message}`,
    );
    if (check.error?.traceback) print(check.error.traceback.trimEnd().replace(/^/gm, "     "));
    print(
      "     Fix the import error above (a missing package: install it into the interpreter shown above).",
    );
    return false;
  }
  print(
    `${mark(true)} adapter ${options.adapter}: ${check.tools.length} tools (${check.tools.join(", ")})`,
  );
  return true;
}
