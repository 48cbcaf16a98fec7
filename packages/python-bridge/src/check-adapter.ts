import { execFile } from "node:child_process";
import { SnakepitError } from "@snakepit/errors";
import { bridgePythonPath } from "./bridge-location.js";
import { bridgeModuleArgs } from "./spawn-python.js";

/** What `python -m snakepit_bridge --check` found. */
export interface AdapterCheck {
  readonly ok: boolean;
  readonly python: string;
  readonly executable: string;
  readonly grpcio: string;
  readonly protobuf: string;
  readonly bridge: string;
  readonly adapter: string | null;
  readonly tools: readonly string[];
  readonly error: {
    readonly type: string;
    readonly message: string;
    readonly traceback: string;
  } | null;
}

/**
 * Imports the bridge (and the adapter, if given) in a throwaway Python process without serving,
 * and reports versions and tools. Used by `snakepit doctor`. Never rejects for a broken adapter:
 * that is `ok: false` with the Python error; rejects only when Python can't run at all.
 */
export function checkAdapter(
  pythonExecutable: string,
  adapter?: string,
  options: { signal?: AbortSignal; cwd?: string } = {},
): Promise<AdapterCheck> {
  const args = [
    ...bridgeModuleArgs("snakepit_bridge"),
    "--check",
    ...(adapter === undefined ? [] : ["--adapter", adapter]),
  ];
  const env = {
    ...process.env,
    PYTHONPATH: bridgePythonPath(pythonExecutable, process.env.PYTHONPATH),
  };
  return new Promise((resolve, reject) => {
    execFile(
      pythonExecutable,
      args,
      { env, cwd: options.cwd, signal: options.signal, timeout: 60_000 },
      (err, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as AdapterCheck);
        } catch {
          const code =
            (err as NodeJS.ErrnoException | null)?.code === "ENOENT"
              ? "PYTHON_NOT_FOUND"
              : "PYTHON_DEPENDENCY_MISSING";
          reject(
            new SnakepitError(
              code,
              `\`${pythonExecutable} ${args.join(" ")}\` failed: ${err?.message ?? "no output"}\n${stderr}`,
              { cause: err },
            ),
          );
        }
      },
    );
  });
}
