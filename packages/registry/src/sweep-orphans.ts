import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { SnakepitError } from "@snakepit/errors";
import {
  findProcessesByMarker,
  killWithEscalation,
  type ProcessIdentity,
  readProcessIdentity,
  verifyIdentity,
} from "@snakepit/process-killer";
import { groupIsAlive } from "@snakepit/process-killer/internal";
import { groupMembers, hostMarkerValue, readHostMarker } from "./host-marker.js";
import type { LockOwner, RegistryStore, RunDocument } from "./registry-store.js";
import { runIdMarker } from "./run-id.js";
import type {
  KilledOrphan,
  OrphanInfo,
  SkippedInfo,
  SweepFailure,
  SweepReport,
} from "./sweep-report.js";

/** @internal Options of {@link sweepStore}, already validated. */
export interface SweepStoreOptions {
  /** The sweeper's own run, never swept. */
  readonly ownRunId: string | undefined;
  readonly dryRun: boolean;
  readonly graceMs: number;
  readonly signal: AbortSignal | undefined;
}

interface Candidate {
  readonly identity: ProcessIdentity;
  readonly info: OrphanInfo;
}

/**
 * @internal Sweeps every run of `store` whose host is dead: each recorded worker's identity
 * (pid, start time, run-id marker) is re-verified before any signal, processes carrying the
 * dead run's marker are found even without a pid on record (a host killed between reserve and
 * activate), every orphan is killed with escalation, and the run's document is deleted. Runs
 * of live hosts, and runs another sweeper has locked, are left alone.
 */
export async function sweepStore(
  store: RegistryStore,
  options: SweepStoreOptions,
): Promise<SweepReport> {
  const report = {
    runsFound: 0,
    runsSwept: [] as string[],
    orphansFound: [] as OrphanInfo[],
    killed: [] as KilledOrphan[],
    skipped: [] as SkippedInfo[],
    failed: [] as SweepFailure[],
    recordsRemoved: 0,
  };
  const self = readProcessIdentity(process.pid);
  const owner: LockOwner = {
    pid: process.pid,
    startTime: self?.startTime ?? 0,
    token: randomBytes(8).toString("hex"),
  };
  for (const runId of await store.listRuns()) {
    if (runId === options.ownRunId) continue;
    options.signal?.throwIfAborted();
    report.runsFound++;
    try {
      await sweepRun(store, runId, owner, options, report);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const error = SnakepitError.from(err, "REGISTRY_IO");
      report.failed.push({ runId, code: error.code, message: error.message });
    }
  }
  return report;
}

async function sweepRun(
  store: RegistryStore,
  runId: string,
  owner: LockOwner,
  options: SweepStoreOptions,
  report: {
    runsSwept: string[];
    orphansFound: OrphanInfo[];
    killed: KilledOrphan[];
    skipped: SkippedInfo[];
    failed: SweepFailure[];
    recordsRemoved: number;
  },
): Promise<void> {
  const first = await store.readRun(runId);
  if (first === undefined || hostSkip(first, report.skipped)) return;
  if (options.dryRun) {
    report.orphansFound.push(...findOrphans(first, report.skipped).map((c) => c.info));
    return;
  }
  const lock = await store.lockRun(runId, owner);
  if (!lock.acquired) {
    report.skipped.push({ runId, pid: lock.holder?.pid, reason: "locked" });
    return;
  }
  try {
    // Re-read under the lock: another sweeper may have finished this run meanwhile.
    const doc = await store.readRun(runId);
    if (doc === undefined || hostSkip(doc, report.skipped)) return;
    const candidates = findOrphans(doc, report.skipped);
    report.orphansFound.push(...candidates.map((c) => c.info));
    const results = await Promise.allSettled(
      candidates.map((c) =>
        killWithEscalation(c.identity, { graceMs: options.graceMs, signal: options.signal }),
      ),
    );
    options.signal?.throwIfAborted();
    let allGone = true;
    results.forEach((result, i) => {
      const info = candidates[i]?.info;
      if (info === undefined) return;
      if (result.status === "fulfilled") {
        const tag = info.workerId === undefined ? {} : { workerId: info.workerId };
        report.killed.push({ ...result.value, runId, ...tag });
      } else {
        allGone = false;
        const error = SnakepitError.from(result.reason, "KILL_FAILED");
        report.failed.push({ runId, pid: info.pid, code: error.code, message: error.message });
      }
    });
    if (!allGone) return; // keep the records: the next sweep tries again
    await store.deleteRun(runId);
    report.runsSwept.push(runId);
    report.recordsRemoved += Object.keys(doc.workers).length;
  } finally {
    await lock.release();
  }
}

/** True (and noted) when the run must be left alone because its host may still be running. */
function hostSkip(doc: RunDocument, skipped: SkippedInfo[]): boolean {
  const { runId, host } = doc;
  if (host.hostname !== hostname()) {
    skipped.push({ runId, pid: host.pid, reason: "other-machine" });
    return true;
  }
  // Alive with another start time means the pid was reused: the host is dead.
  if (readProcessIdentity(host.pid)?.startTime === host.startTime) {
    skipped.push({ runId, pid: host.pid, reason: "alive-host" });
    return true;
  }
  return false;
}

/**
 * Live, verified orphans of a dead run, from its records and from the run-id marker. Every
 * candidate must also carry the dead host in its environment ({@link HOST_ENV}): the records
 * and the argv marker can be forged or copied (run ids are visible in `ps`), the environment
 * a live host gave its workers cannot.
 */
function findOrphans(doc: RunDocument, skipped: SkippedInfo[]): Candidate[] {
  const { runId } = doc;
  const marker = runIdMarker(runId);
  const expected = hostMarkerValue(runId, doc.host);
  const carriesHost = (pid: number) => readHostMarker(pid) === expected;
  const byPid = new Map<number, Candidate>();
  const workerByPid = new Map<number, string>();
  const refused = new Set<number>();
  const refuse = (pid: number, reason: SkippedInfo["reason"], workerId?: string) => {
    refused.add(pid);
    skipped.push(
      workerId === undefined ? { runId, pid, reason } : { runId, pid, workerId, reason },
    );
  };
  for (const record of Object.values(doc.workers)) {
    if (record.status !== "active") continue;
    const { workerId, pid, pgid, startTime } = record;
    workerByPid.set(pid, workerId);
    const identity: ProcessIdentity = { pid, pgid, startTime, marker };
    const current = readProcessIdentity(pid);
    if (current === undefined) {
      // The worker is gone; if it led a group, members may remain (killWithEscalation handles it).
      if (pgid === pid && groupIsAlive(pgid)) {
        if (groupMembers(pgid).some(carriesHost))
          byPid.set(pid, { identity, info: { runId, pid, workerId, source: "record" } });
        else refuse(pid, "host-mismatch", workerId);
      }
    } else if (!verifyIdentity(identity)) {
      refuse(pid, "identity-mismatch", workerId);
    } else if (!carriesHost(pid)) {
      refuse(pid, "host-mismatch", workerId);
    } else {
      byPid.set(pid, { identity, info: { runId, pid, workerId, source: "record" } });
    }
  }
  for (const identity of findProcessesByMarker(marker)) {
    // A pid whose record did not verify stays untouched, marker or not: err on the safe side.
    if (byPid.has(identity.pid) || refused.has(identity.pid)) continue;
    const workerId = workerByPid.get(identity.pid);
    // The marker alone is argv anyone can write (`grep --snakepit-run-id <id>`): not enough.
    if (!carriesHost(identity.pid)) {
      refuse(identity.pid, "host-mismatch", workerId);
      continue;
    }
    const info: OrphanInfo = { runId, pid: identity.pid, source: "marker" };
    byPid.set(identity.pid, {
      identity,
      info: workerId === undefined ? info : { ...info, workerId },
    });
  }
  // A member of a candidate's process group dies with its leader: do not kill it twice.
  const leaders = new Set([...byPid.values()].filter((c) => c.identity.pgid === c.identity.pid));
  const leaderPids = new Set([...leaders].map((c) => c.identity.pid));
  return [...byPid.values()].filter((c) => leaders.has(c) || !leaderPids.has(c.identity.pgid));
}
