import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { invalidOption } from "@snakepit/errors/internal";

/** What builds the cached venv: `uv` (much faster) or the standard `venv` module plus `pip`. */
export type VenvInstaller = "uv" | "pip";

/** @internal The first executable `name` on `pathEnv` (the `PATH` syntax), if any. */
export function findOnPath(name: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * @internal Picks the installer: `auto` takes `uv` when it is on `PATH`, else pip; `uv` insists
 * (`INVALID_OPTIONS` when there is none); `pip` always works where `python -m venv` does.
 */
export function chooseInstaller(
  preference: string,
  uvPath: string | undefined,
): { installer: VenvInstaller; uv: string | undefined } {
  if (preference === "pip") return { installer: "pip", uv: undefined };
  if (preference === "uv" || preference === "auto") {
    if (uvPath !== undefined) return { installer: "uv", uv: uvPath };
    if (preference === "auto") return { installer: "pip", uv: undefined };
    throw invalidOption(
      "installer",
      '"uv" only with `uv` on PATH (install uv, or use "auto")',
      preference,
    );
  }
  throw invalidOption("installer", '"auto", "uv" or "pip"', preference);
}

/** @internal The commands that create the venv in `venvDir` and install `requirements` into it. */
export function venvCommands(o: {
  readonly installer: VenvInstaller;
  readonly uv: string | undefined;
  readonly basePython: string;
  readonly venvDir: string;
  readonly executable: string;
  readonly requirements: string;
}): { readonly create: [string, string[]]; readonly install: [string, string[]] } {
  if (o.installer === "uv" && o.uv !== undefined) {
    return {
      create: [o.uv, ["venv", "--python", o.basePython, o.venvDir]],
      install: [o.uv, ["pip", "install", "--python", o.executable, "-r", o.requirements]],
    };
  }
  return {
    create: [o.basePython, ["-m", "venv", o.venvDir]],
    install: [
      o.executable,
      ["-m", "pip", "install", "--progress-bar", "off", "-r", o.requirements],
    ],
  };
}
