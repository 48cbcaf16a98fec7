/**
 * The `state` label of the `snakepit_workers` gauge: what a worker is doing, as far as the events
 * tell. Coarser than the pool's own worker states (no draining, no stopped).
 */
export type WorkerStateLabel = "starting" | "idle" | "busy" | "stopping";

/** Every {@link WorkerStateLabel}, in display order. */
export const workerStateLabels: readonly WorkerStateLabel[] = [
  "starting",
  "idle",
  "busy",
  "stopping",
];

interface TrackedWorker {
  phase: "starting" | "ready" | "stopping";
  inFlight: number;
}

/** Workers by state label for each pool, derived from worker and call events alone. */
export interface WorkerStateTracker {
  spawned(pool: string, workerId: string): void;
  ready(pool: string, workerId: string): void;
  callStarted(pool: string, workerId: string): void;
  callFinished(pool: string, workerId: string): void;
  stopping(pool: string, workerId: string): void;
  exited(pool: string, workerId: string): void;
  /** Counts by pool and state; every pool ever seen is listed, with zeros. */
  counts(): Map<string, Record<WorkerStateLabel, number>>;
}

/**
 * Tracks worker state labels from events. Tolerates joining late: a call or `ready` for a worker it has
 * never seen adds that worker, so metrics created after the pool started still converge.
 */
export function createWorkerStateTracker(): WorkerStateTracker {
  const pools = new Map<string, Map<string, TrackedWorker>>();
  const workersOf = (pool: string) => {
    let workers = pools.get(pool);
    if (workers === undefined) {
      workers = new Map();
      pools.set(pool, workers);
    }
    return workers;
  };
  const worker = (pool: string, workerId: string) => {
    const workers = workersOf(pool);
    let tracked = workers.get(workerId);
    if (tracked === undefined) {
      tracked = { phase: "ready", inFlight: 0 };
      workers.set(workerId, tracked);
    }
    return tracked;
  };
  return {
    spawned(pool, workerId) {
      workersOf(pool).set(workerId, { phase: "starting", inFlight: 0 });
    },
    ready(pool, workerId) {
      worker(pool, workerId).phase = "ready";
    },
    callStarted(pool, workerId) {
      worker(pool, workerId).inFlight++;
    },
    callFinished(pool, workerId) {
      const tracked = pools.get(pool)?.get(workerId);
      if (tracked !== undefined && tracked.inFlight > 0) tracked.inFlight--;
    },
    stopping(pool, workerId) {
      const tracked = pools.get(pool)?.get(workerId);
      if (tracked !== undefined) tracked.phase = "stopping";
    },
    exited(pool, workerId) {
      workersOf(pool).delete(workerId);
    },
    counts() {
      const result = new Map<string, Record<WorkerStateLabel, number>>();
      for (const [pool, workers] of pools) {
        const counts = { starting: 0, idle: 0, busy: 0, stopping: 0 };
        for (const w of workers.values()) {
          // A stopping worker may still finish calls; it counts as stopping, not busy.
          if (w.phase === "ready") counts[w.inFlight > 0 ? "busy" : "idle"]++;
          else counts[w.phase]++;
        }
        result.set(pool, counts);
      }
      return result;
    },
  };
}
