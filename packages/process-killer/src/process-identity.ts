import { expectString, invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";
import { argvHasMarker } from "./marker-match.js";
import { isLiveEntry, type ProcessEntry, readProcessEntry } from "./process-table.js";

/**
 * A handle on one particular process, safe to persist: a pid alone may be reused by the OS for
 * an unrelated process after a crash, a pid plus its start time (plus, optionally, a marker in
 * its argv) may not. Check it with {@link verifyIdentity} before signalling from a stored record.
 */
export interface ProcessIdentity {
  readonly pid: number;
  /**
   * When the process started, as an opaque number to compare for equality: clock ticks since
   * boot (`/proc/<pid>/stat` field 22) on Linux, seconds since the epoch (`ps -o lstart=`) on macOS.
   */
  readonly startTime: number;
  /** The process group id; equal to `pid` when the process leads its own group (`detached: true`). */
  readonly pgid: number;
  /** Tokens that must appear consecutively in the argv, e.g. `--snakepit-run-id k3x9a2p`. */
  readonly marker?: string;
}

/** Options of {@link readProcessIdentity}. */
export interface ReadProcessIdentityOptions {
  /**
   * Only return an identity if the argv holds these whitespace-separated tokens consecutively;
   * the marker is then kept in the identity and re-checked by {@link verifyIdentity}.
   * Default: no marker.
   */
  marker?: string;
}

/**
 * Reads the identity of a running process, or `undefined` when there is no live process with
 * that pid (zombies count as gone) or its argv lacks `options.marker`. Linux and macOS; throws
 * `UNSUPPORTED_PLATFORM` elsewhere.
 */
export function readProcessIdentity(
  pid: number,
  options: ReadProcessIdentityOptions = {},
): ProcessIdentity | undefined {
  expectPid("pid", pid);
  rejectUnknownKeys(options, ["marker"]);
  const marker = options.marker === undefined ? undefined : expectString("marker", options.marker);
  const entry = readProcessEntry(pid);
  if (!isLiveEntry(entry)) return undefined;
  if (marker !== undefined && !argvHasMarker(entry.argv, marker)) return undefined;
  return toIdentity(entry, marker);
}

/**
 * True when the process `identity` describes is still the one running under that pid: alive,
 * same start time, and (when the identity has a marker) the marker still in its argv. False
 * when it is gone or the pid now belongs to another process.
 */
export function verifyIdentity(identity: ProcessIdentity): boolean {
  return matchesIdentity(readProcessEntry(identity.pid), identity);
}

/** @internal Compares a freshly read entry with a stored identity. */
export function matchesIdentity(
  entry: ProcessEntry | undefined,
  identity: ProcessIdentity,
): boolean {
  return (
    isLiveEntry(entry) &&
    entry.startTime === identity.startTime &&
    (identity.marker === undefined || argvHasMarker(entry.argv, identity.marker))
  );
}

/** @internal */
export function toIdentity(entry: ProcessEntry, marker: string | undefined): ProcessIdentity {
  const identity = { pid: entry.pid, startTime: entry.startTime, pgid: entry.pgid };
  return marker === undefined ? identity : { ...identity, marker };
}

/** @internal Validates a pid argument: a positive integer. */
export function expectPid(path: string, pid: unknown): number {
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid < 1) {
    throw invalidOption(path, "a positive integer pid", pid);
  }
  return pid;
}
