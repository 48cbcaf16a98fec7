import type { KillOutcome } from "@snakepit/process-killer";

/** A process of a dead run, verified to be that run's worker (or part of its group). */
export interface OrphanInfo {
  readonly runId: string;
  readonly pid: number;
  /** The worker record it belongs to, when known (a marker hit may have none). */
  readonly workerId?: string;
  /** How it was found: an active record, or `--snakepit-run-id <runId>` in its argv. */
  readonly source: "record" | "marker";
}

/** A kill outcome tagged with the run (and worker) it cleaned up. */
export interface KilledOrphan extends KillOutcome {
  readonly runId: string;
  readonly workerId?: string;
}

/** Why a sweep left something alone. */
export type SkipReason =
  /** The run's host process is still running (same pid and start time): its workers are live. */
  | "alive-host"
  /** A record's pid now names another process (start time or run-id marker differ). */
  | "identity-mismatch"
  /**
   * A process with the run's marker (or on its record) whose environment does not name the run's
   * dead host (`SNAKEPIT_HOST`): an unrelated process, or a live host's worker named by a forged
   * record.
   */
  | "host-mismatch"
  /** Another live sweeper holds this run's lock and is cleaning it up. */
  | "locked"
  /** The run was recorded on another machine sharing the data directory. */
  | "other-machine";

/** Something the sweep found and deliberately did not touch. */
export interface SkippedInfo {
  readonly runId: string;
  /** The host pid (`alive-host`, `other-machine`), worker pid, or lock holder pid. */
  readonly pid: number | undefined;
  readonly workerId?: string;
  readonly reason: SkipReason;
}

/** Something that went wrong for one run; its records are kept for the next sweep. */
export interface SweepFailure {
  readonly runId: string;
  readonly pid?: number;
  /** A `SnakepitError` code, e.g. `KILL_FAILED` or `REGISTRY_IO`. */
  readonly code: string;
  readonly message: string;
}

/** What a sweep found and did. */
export interface SweepReport {
  /** Run documents seen, other than the sweeper's own run. */
  readonly runsFound: number;
  /** Runs of dead hosts whose documents were deleted. */
  readonly runsSwept: readonly string[];
  /** Live processes verified as orphans of dead runs (on a dry run: what would be killed). */
  readonly orphansFound: readonly OrphanInfo[];
  /** How each orphan was killed; empty on a dry run. */
  readonly killed: readonly KilledOrphan[];
  readonly skipped: readonly SkippedInfo[];
  readonly failed: readonly SweepFailure[];
  /** Worker records deleted with the swept runs. */
  readonly recordsRemoved: number;
}
