import { hostname } from "node:os";
import { SnakepitError } from "@snakepit/errors";
import { expectString, invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";
import { readProcessIdentity } from "@snakepit/process-killer";
import { defaultDataDir } from "./default-data-dir.js";
import { createFileStore } from "./file-store.js";
import { HOST_ENV, hostMarkerValue } from "./host-marker.js";
import type {
  ActiveWorkerRecord,
  HostRecord,
  RegistryStore,
  RunDocument,
  WorkerRecord,
} from "./registry-store.js";
import { resolveSweepOptions, type SweepOptions } from "./resolve-sweep-options.js";
import { expectRunId, generateRunId, runIdArgs } from "./run-id.js";
import { sweepStore } from "./sweep-orphans.js";
import type { SweepReport } from "./sweep-report.js";

/** Options of {@link createProcessRegistry}. */
export interface ProcessRegistryOptions {
  /**
   * Directory of the default file store. Default `$XDG_STATE_HOME/snakepit`, else
   * `~/.local/state/snakepit`. Ignored when `store` is given.
   */
  dataDir?: string;
  /** This run's id (4–32 chars of `[0-9a-z]`). Default: 7 random base36 characters. */
  runId?: string;
  /** Where records live. Default: `createFileStore(dataDir)`. */
  store?: RegistryStore;
}

/** What the registry needs to know about a worker before it is spawned. */
export interface ReserveInfo {
  /** The pool the worker belongs to, for reports. */
  poolName?: string;
  /** The command line, for reports. */
  command?: string;
}

/** What the OS gave a spawned worker (see `readProcessIdentity`). */
export interface ActivateInfo {
  pid: number;
  pgid: number;
  startTime: number;
}

/**
 * Durable records of the workers of one host run. Record each worker **before** spawning it
 * ({@link ProcessRegistry.reserve}), as soon as it has a pid ({@link ProcessRegistry.activate}),
 * and remove it once it is gone: a host SIGKILLed between any two steps leaves enough on disk
 * for the next {@link ProcessRegistry.sweepOrphans} (of any host sharing the store) to kill its
 * orphans. Spawn every worker with {@link ProcessRegistry.markerArgs} in its argv.
 *
 * Record writes take no AbortSignal on purpose: a durable write either happens or fails, and
 * abandoning one halfway would lose the record that guards against orphans.
 */
export interface ProcessRegistry {
  /** This run's id. */
  readonly runId: string;
  /** `["--snakepit-run-id", runId]`: append to every worker's argv. */
  readonly markerArgs: readonly string[];
  /**
   * `{ SNAKEPIT_HOST: "<runId>:<host pid>:<host start time>" }`: add to every worker's
   * environment (and a fork server's, whose children share it). A sweep kills only processes
   * that carry it: the argv marker alone can be copied by anyone.
   */
  readonly markerEnv: Readonly<Record<string, string>>;
  /** This host process as recorded (pid, start time, hostname). */
  readonly hostIdentity: HostRecord;
  /** Records a worker about to be spawned; durable when it resolves. */
  reserve(workerId: string, info?: ReserveInfo): Promise<void>;
  /** Adds the pid, group and start time to a reserved worker; durable when it resolves. */
  activate(workerId: string, info: ActivateInfo): Promise<void>;
  /** Forgets a worker that is gone (no error when unknown); durable when it resolves. */
  remove(workerId: string): Promise<void>;
  /** This run's worker records. */
  records(): Promise<WorkerRecord[]>;
  /** Kills the orphans of dead runs in the store (never this run's workers); see {@link SweepOptions}. */
  sweepOrphans(options?: SweepOptions): Promise<SweepReport>;
  /**
   * Waits for pending writes; deletes this run's document if no worker is left on record (one
   * still recorded stays for a later sweep). Idempotent. Later calls reject with
   * `REGISTRY_CLOSED`.
   */
  close(): Promise<void>;
}

/**
 * Creates the registry of this host run and durably records the host (pid, start time,
 * hostname) in the store. Rejects with `REGISTRY_IO` when the store cannot be written,
 * `INVALID_OPTIONS` on bad options.
 */
export async function createProcessRegistry(
  options: ProcessRegistryOptions = {},
): Promise<ProcessRegistry> {
  rejectUnknownKeys(options, ["dataDir", "runId", "store"]);
  const runId = options.runId === undefined ? generateRunId() : expectRunId("runId", options.runId);
  const store =
    options.store ??
    createFileStore(
      options.dataDir === undefined ? defaultDataDir() : expectString("dataDir", options.dataDir),
    );
  const self = readProcessIdentity(process.pid);
  if (self === undefined) throw new SnakepitError("PROCESS_NOT_FOUND", "Cannot read own identity");
  const hostIdentity: HostRecord = {
    pid: self.pid,
    startTime: self.startTime,
    hostname: hostname(),
  };
  let doc: RunDocument = {
    version: 1,
    runId,
    host: hostIdentity,
    createdAt: new Date().toISOString(),
    workers: {},
  };
  await store.writeRun(doc);

  let closed = false;
  // Mutations run one at a time, each writing the whole document: no lost update.
  let queue: Promise<unknown> = Promise.resolve();
  const mutate = (change: (workers: Record<string, WorkerRecord>) => boolean): Promise<void> => {
    if (closed) return Promise.reject(closedError(runId));
    const next = queue.then(async () => {
      const workers = { ...doc.workers };
      if (!change(workers)) return;
      const updated = { ...doc, workers };
      await store.writeRun(updated);
      doc = updated; // only after the write: memory never runs ahead of the disk
    });
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    runId,
    markerArgs: Object.freeze(runIdArgs(runId)),
    markerEnv: Object.freeze({ [HOST_ENV]: hostMarkerValue(runId, hostIdentity) }),
    hostIdentity,
    async reserve(workerId, info = {}) {
      expectString("workerId", workerId);
      rejectUnknownKeys(info, ["poolName", "command"], "info");
      return mutate((workers) => {
        if (workers[workerId] !== undefined) {
          throw invalidOption("workerId", "an id not already recorded in this run", workerId);
        }
        workers[workerId] = {
          workerId,
          status: "reserved",
          ...(info.poolName === undefined
            ? {}
            : { poolName: expectString("info.poolName", info.poolName) }),
          ...(info.command === undefined
            ? {}
            : { command: expectString("info.command", info.command) }),
          reservedAt: new Date().toISOString(),
        };
        return true;
      });
    },
    async activate(workerId, info) {
      expectString("workerId", workerId);
      rejectUnknownKeys(info, ["pid", "pgid", "startTime"], "info");
      for (const key of ["pid", "pgid", "startTime"] as const) {
        if (!Number.isInteger(info[key]) || info[key] < 0) {
          throw invalidOption(`info.${key}`, "an integer >= 0", info[key]);
        }
      }
      return mutate((workers) => {
        const record = workers[workerId];
        if (record === undefined) {
          throw invalidOption("workerId", "a worker reserved before it was spawned", workerId);
        }
        const active: ActiveWorkerRecord = {
          ...record,
          status: "active",
          pid: info.pid,
          pgid: info.pgid,
          startTime: info.startTime,
          activatedAt: new Date().toISOString(),
        };
        workers[workerId] = active;
        return true;
      });
    },
    async remove(workerId) {
      expectString("workerId", workerId);
      return mutate((workers) => {
        if (workers[workerId] === undefined) return false;
        delete workers[workerId];
        return true;
      });
    },
    async records() {
      if (closed) throw closedError(runId);
      await queue;
      return Object.values(doc.workers);
    },
    async sweepOrphans(sweepOptions = {}) {
      if (closed) throw closedError(runId);
      return sweepStore(store, { ...resolveSweepOptions(sweepOptions), ownRunId: runId });
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      if (Object.keys(doc.workers).length === 0) await store.deleteRun(runId);
    },
  };
}

function closedError(runId: string): SnakepitError {
  return new SnakepitError("REGISTRY_CLOSED", `The process registry of run ${runId} is closed`, {
    details: { runId },
  });
}
