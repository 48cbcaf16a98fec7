import {
  expectBoolean,
  expectInteger,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors/internal";

/** Options of `ProcessRegistry.sweepOrphans`. */
export interface SweepOptions {
  /** Grace between SIGTERM and SIGKILL for each orphan, in milliseconds. Default `2000`. */
  graceMs?: number;
  /** Only find and report orphans; kill nothing, delete nothing, take no lock. Default `false`. */
  dryRun?: boolean;
  /** Stops the sweep and rejects with the abort reason; records not yet swept stay. */
  signal?: AbortSignal;
}

/** @internal */
export interface ResolvedSweepOptions {
  readonly graceMs: number;
  readonly dryRun: boolean;
  readonly signal: AbortSignal | undefined;
}

/** @internal Validates sweep options and applies the defaults, in one place. */
export function resolveSweepOptions(
  options: SweepOptions,
  extraKeys: readonly string[] = [],
): ResolvedSweepOptions {
  rejectUnknownKeys(options, ["graceMs", "dryRun", "signal", ...extraKeys]);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidOption("signal", "an AbortSignal", options.signal);
  }
  return {
    graceMs: expectInteger("graceMs", options.graceMs ?? 2000, 0),
    dryRun: expectBoolean("dryRun", options.dryRun ?? false),
    signal: options.signal,
  };
}
