import { bridgePythonDir } from "./bridge-paths.js";

/**
 * Which copy of `snakepit_bridge` an interpreter runs: `installed` when the interpreter imports
 * one on its own (`pip install` into it, or a directory on the user's `PYTHONPATH`), else
 * `bundled`, the copy shipped inside `@snakepit/python-bridge`.
 */
export type BridgeSource = "installed" | "bundled";

// By interpreter and the PYTHONPATH it was probed with: both decide what it imports.
const sources = new Map<string, BridgeSource>();
const key = (executable: string, pythonPath: string | undefined) =>
  `${executable}\0${pythonPath ?? ""}`;

/**
 * @internal Records what {@link resolvePythonEnvironment}'s probe found for an interpreter run
 * with the host's `PYTHONPATH`.
 */
export function rememberBridgeSource(executable: string, source: BridgeSource): void {
  sources.set(key(executable, process.env.PYTHONPATH), source);
}

/**
 * The `PYTHONPATH` to start `executable` with. The rule: an installed `snakepit_bridge` wins
 * (the user chose it; the handshake's protocol check catches a version that does not match);
 * otherwise the bundled copy goes first on the path. An interpreter (with this `PYTHONPATH`)
 * the probe has not seen gets the bundled copy.
 */
export function bridgePythonPath(executable: string, current: string | undefined): string {
  if (sources.get(key(executable, current)) === "installed") return current ?? "";
  return current ? `${bridgePythonDir}:${current}` : bridgePythonDir;
}
