import { expectString } from "@snakepit/errors/internal";
import { defaultDataDir } from "./default-data-dir.js";
import { createFileStore } from "./file-store.js";
import type { RegistryStore } from "./registry-store.js";
import { resolveSweepOptions } from "./resolve-sweep-options.js";
import { sweepStore } from "./sweep-orphans.js";
import type { SweepReport } from "./sweep-report.js";

/** Options of {@link runCleanup}: what `snakepit cleanup [--dry-run] [--data-dir <dir>]` takes. */
export interface CleanupOptions {
  /** The data directory to sweep. Default: the registry default (`$XDG_STATE_HOME/snakepit` …). */
  dataDir?: string;
  /** List orphans only; kill and delete nothing. Default `false`. */
  dryRun?: boolean;
  /** Grace between SIGTERM and SIGKILL per orphan, in milliseconds. Default `2000`. */
  graceMs?: number;
  /** Another store instead of the file store in `dataDir`. */
  store?: RegistryStore;
  /** Stops the sweep; rejects with the abort reason. */
  signal?: AbortSignal;
}

/** The result of {@link runCleanup}: the sweep report plus where and how it ran. */
export interface CleanupReport extends SweepReport {
  /** The store location that was swept (the data directory for the file store). */
  readonly location: string;
  readonly dryRun: boolean;
}

/**
 * The logic of `snakepit cleanup`: finds the runs of dead hosts in the data directory and kills
 * their orphaned workers (each identity re-verified first), or with `dryRun` only lists them.
 * The caller is not a host, so every dead run is a candidate and live hosts are left alone.
 * Format the result with {@link formatCleanupReport}.
 */
export async function runCleanup(options: CleanupOptions = {}): Promise<CleanupReport> {
  const { dataDir, store: custom, ...rest } = options;
  const sweep = resolveSweepOptions(rest);
  const store =
    custom ??
    createFileStore(dataDir === undefined ? defaultDataDir() : expectString("dataDir", dataDir));
  const report = await sweepStore(store, { ...sweep, ownRunId: undefined });
  return { ...report, location: store.location, dryRun: sweep.dryRun };
}
