import { hostname } from "node:os";
import { sampleMemory } from "@snakepit/lifecycle";
import { readProcessIdentity, verifyIdentity } from "@snakepit/process-killer";
import { createFileStore, defaultDataDir } from "@snakepit/registry";
import { runIdMarker } from "@snakepit/registry/internal";
import { expectReadableDataDir } from "./data-dir-check.js";

/** Options of {@link readStatus}. */
export interface StatusOptions {
  /** The registry's data directory. Default: `$XDG_STATE_HOME/snakepit` or `~/.local/state/snakepit`. */
  readonly dataDir?: string;
  readonly signal?: AbortSignal;
}

/** One worker of a run, as `snakepit status` shows it. */
export interface WorkerStatus {
  readonly workerId: string;
  readonly poolName: string | undefined;
  /**
   * `running`: the recorded process is alive (same pid, start time and run-id marker);
   * `reserved`: recorded before its spawn, no pid yet; `gone`: the recorded process has exited.
   */
  readonly state: "running" | "reserved" | "gone";
  readonly pid: number | undefined;
  /** Since the worker was recorded as started (`running` only), milliseconds. */
  readonly uptimeMs: number | undefined;
  /** Resident set size of the worker process alone (`running` only), bytes. */
  readonly rssBytes: number | undefined;
}

/** One host run in the registry. */
export interface RunStatus {
  readonly runId: string;
  /**
   * `live`: its host process is running; `dead`: the host is gone and the run awaits
   * `snakepit cleanup`; `other-machine`: recorded by another machine sharing the data directory.
   */
  readonly state: "live" | "dead" | "other-machine";
  readonly host: { readonly pid: number; readonly hostname: string };
  /** Since the run was registered (`live` only), milliseconds. */
  readonly uptimeMs: number | undefined;
  readonly workers: readonly WorkerStatus[];
}

/** What `snakepit status` found; also the shape of `snakepit status --json`. */
export interface StatusReport {
  readonly dataDir: string;
  readonly runs: readonly RunStatus[];
}

function since(iso: string, now: number): number | undefined {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : Math.max(0, now - t);
}

/**
 * `snakepit status`: every host run in the registry, live or dead, with its workers (pid,
 * worker id, uptime, RSS). Reads only: never signals or deletes anything. Rejects with
 * `REGISTRY_IO` when the data directory cannot be read.
 */
export async function readStatus(options: StatusOptions = {}): Promise<StatusReport> {
  const dataDir = options.dataDir ?? defaultDataDir();
  if (options.dataDir !== undefined) await expectReadableDataDir(dataDir);
  const store = createFileStore(dataDir);
  const runs: RunStatus[] = [];
  const now = Date.now();
  for (const runId of await store.listRuns()) {
    options.signal?.throwIfAborted();
    const doc = await store.readRun(runId);
    if (doc === undefined) continue; // removed while we listed
    const { host } = doc;
    const state: RunStatus["state"] =
      host.hostname !== hostname()
        ? "other-machine"
        : readProcessIdentity(host.pid)?.startTime === host.startTime
          ? "live"
          : "dead";
    const workers = await Promise.all(
      Object.values(doc.workers).map(async (w): Promise<WorkerStatus> => {
        const base = { workerId: w.workerId, poolName: w.poolName };
        if (w.status === "reserved")
          return {
            ...base,
            state: "reserved",
            pid: undefined,
            uptimeMs: undefined,
            rssBytes: undefined,
          };
        const alive =
          state !== "other-machine" &&
          verifyIdentity({
            pid: w.pid,
            pgid: w.pgid,
            startTime: w.startTime,
            marker: runIdMarker(runId),
          });
        if (!alive)
          return { ...base, state: "gone", pid: w.pid, uptimeMs: undefined, rssBytes: undefined };
        const memory = await sampleMemory(w.pid, { includeChildren: false }).catch(() => undefined);
        return {
          ...base,
          state: "running",
          pid: w.pid,
          uptimeMs: since(w.activatedAt, now),
          rssBytes: memory?.bytes,
        };
      }),
    );
    workers.sort((a, b) => a.workerId.localeCompare(b.workerId));
    runs.push({
      runId,
      state,
      host: { pid: host.pid, hostname: host.hostname },
      uptimeMs: state === "live" ? since(doc.createdAt, now) : undefined,
      workers,
    });
  }
  return { dataDir, runs };
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return "-";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? "-" : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** {@link readStatus}'s report for people: one block per run, one line per worker. */
export function formatStatusReport(report: StatusReport): string {
  const lines = [`snakepit status in ${report.dataDir}`];
  const live = report.runs.filter((r) => r.state === "live");
  const dead = report.runs.filter((r) => r.state === "dead");
  lines.push(`  live runs: ${live.length}, dead runs awaiting cleanup: ${dead.length}`);
  for (const run of report.runs) {
    const what =
      run.state === "live"
        ? `live, host pid ${run.host.pid}, up ${duration(run.uptimeMs)}`
        : run.state === "dead"
          ? `dead (host pid ${run.host.pid} is gone): run \`snakepit cleanup\``
          : `on another machine (${run.host.hostname})`;
    lines.push(`  run ${run.runId}: ${what}`);
    for (const w of run.workers) {
      const pool = w.poolName === undefined ? "" : ` (pool ${w.poolName})`;
      const pid = w.pid === undefined ? "-" : String(w.pid);
      lines.push(
        `    worker ${w.workerId}${pool}: ${w.state}, pid ${pid}, up ${duration(w.uptimeMs)}, rss ${mib(w.rssBytes)}`,
      );
    }
    if (run.workers.length === 0) lines.push("    no workers");
  }
  return lines.join("\n");
}
