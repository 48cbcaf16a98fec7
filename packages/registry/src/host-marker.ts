import { readdirSync, readFileSync } from "node:fs";
import type { HostRecord } from "./registry-store.js";

/**
 * The environment variable that ties a worker to the host process that started it:
 * `SNAKEPIT_HOST=<runId>:<host pid>:<host start time>`.
 *
 * Why an environment marker and not the process tree: an orphan's parent is gone by definition
 * (it was re-parented to init or a subreaper, and a forked worker's parent is a fork server), so
 * lineage can never confirm that a process belonged to a dead host. A process's initial
 * environment is fixed when it starts (`/proc/<pid>/environ`; a forked child shares its fork
 * server's), readable only by its own user and root, and — unlike the run id in argv, which
 * anyone can read in `ps` and copy into a forged record — it names the host's start time, which
 * a forged record would have to get right *and* name a dead host for a sweep to act.
 */
export const HOST_ENV = "SNAKEPIT_HOST";

/** The value of {@link HOST_ENV} for the workers of `runId` started by `host`. */
export function hostMarkerValue(
  runId: string,
  host: Pick<HostRecord, "pid" | "startTime">,
): string {
  return `${runId}:${host.pid}:${host.startTime}`;
}

/**
 * {@link HOST_ENV} from the initial environment of process `pid`, or `undefined` when it has none
 * or it cannot be read (gone, another user's, not Linux). A sweep treats `undefined` as "not
 * this run's worker": erring on the side of not killing.
 */
export function readHostMarker(pid: number): string | undefined {
  if (process.platform !== "linux") return undefined;
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "latin1");
  } catch {
    return undefined;
  }
  const prefix = `${HOST_ENV}=`;
  for (const entry of environ.split("\0")) {
    if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  }
  return undefined;
}

/** Pids of the live members of process group `pgid` (Linux; none elsewhere). */
export function groupMembers(pgid: number): number[] {
  if (process.platform !== "linux") return [];
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) members.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}
