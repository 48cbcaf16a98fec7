import { removeStaleDirectories } from "@snakepit/python-bridge/internal";
import { type CleanupReport, formatCleanupReport, runCleanup } from "@snakepit/registry";
import { expectReadableDataDir } from "./data-dir-check.js";

/** Options of {@link cleanupOrphans}. */
export interface CleanupOrphansOptions {
  /**
   * The registry's data directory; when given it must exist and be readable (`REGISTRY_IO`
   * otherwise). Default: `$XDG_STATE_HOME/snakepit` or `~/.local/state/snakepit` (absent means
   * no runs).
   */
  readonly dataDir?: string;
  /** Only list what would be killed and removed. Default false. */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

/** What {@link cleanupOrphans} found and did; also the shape of `snakepit cleanup --json`. */
export interface CleanupOrphansReport {
  readonly registry: CleanupReport;
  /** Socket directories of dead hosts that were removed (none on a dry run). */
  readonly directoriesRemoved: readonly string[];
}

/**
 * `snakepit cleanup`: kills the workers of host runs that died without stopping them (verified
 * by pid, start time and run-id marker before any signal), deletes their records, and removes
 * the socket directories dead hosts left behind. Live hosts' workers are never touched.
 */
export async function cleanupOrphans(
  options: CleanupOrphansOptions = {},
): Promise<CleanupOrphansReport> {
  if (options.dataDir !== undefined) await expectReadableDataDir(options.dataDir);
  const registry = await runCleanup({
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    dryRun: options.dryRun ?? false,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const directoriesRemoved = options.dryRun === true ? [] : await removeStaleDirectories();
  return { registry, directoriesRemoved };
}

/** A human-readable report of {@link cleanupOrphans}. */
export function formatCleanupOrphansReport(report: CleanupOrphansReport): string {
  const dirs =
    report.directoriesRemoved.length === 0
      ? "no stale socket directories"
      : `removed ${report.directoriesRemoved.length} stale socket directories`;
  return `${formatCleanupReport(report.registry)}\n${dirs}`;
}
