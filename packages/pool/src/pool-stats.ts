import type { RecycleReason } from "@snakepit/lifecycle";
import type { PendingCall } from "./call-queue.js";
import { LatencyRecorder } from "./latency-summary.js";
import type { PoolState, PoolStats, RestartReason } from "./pool-types.js";
import type { WorkerSet } from "./worker-set.js";

/** The pool's counters: calls, restarts, recycles, wait and run times. O(1) to record. */
export class PoolStatsRecorder {
  readonly #waits = new LatencyRecorder();
  readonly #runs = new LatencyRecorder();
  #succeeded = 0;
  #failed = 0;
  readonly restarts: Record<RestartReason, number> = { crashed: 0, unhealthy: 0, stuck: 0 };
  readonly recycles: Record<RecycleReason | "manual", number> = {
    ttl: 0,
    "max-requests": 0,
    memory: 0,
    unhealthy: 0,
    custom: 0,
    manual: 0,
  };

  recordWait(ms: number): void {
    this.#waits.record(ms);
  }

  recordRun(ms: number, ok: boolean): void {
    this.#runs.record(ms);
    if (ok) this.#succeeded++;
    else this.#failed++;
  }

  /** The stats of the pool at this moment (walks the workers: not for the hot path). */
  snapshot(
    name: string,
    state: PoolState,
    health: PoolStats["health"],
    queueDepth: number,
    workers: WorkerSet<PendingCall>,
  ): PoolStats {
    const counts = { starting: 0, idle: 0, busy: 0, stopping: 0 };
    let inFlight = 0;
    const all = [...workers.values()];
    for (const w of all) {
      inFlight += w.inFlight.size;
      const kind = w.state.kind;
      if (kind === "starting") counts.starting++;
      else if (kind === "stopping" || kind === "draining") counts.stopping++;
      else if (kind === "ready") w.inFlight.size > 0 ? counts.busy++ : counts.idle++;
    }
    const r = this.restarts;
    return {
      name,
      state,
      health,
      workers: counts,
      queueDepth,
      inFlight,
      callsSucceeded: this.#succeeded,
      callsFailed: this.#failed,
      restarts: r.crashed + r.unhealthy + r.stuck,
      restartsByReason: { ...r },
      recyclesByReason: { ...this.recycles },
      waitMs: this.#waits.summary(),
      runMs: this.#runs.summary(),
      pids: all.flatMap((w) =>
        w.state.kind === "ready" && w.process !== undefined ? [w.process.pid] : [],
      ),
      workerDetails: all.map((w) => ({
        workerId: w.id,
        pid: w.process?.pid,
        address: w.process?.address,
        state: w.state.kind,
        inFlight: w.inFlight.size,
        callsServed: w.callsServed,
        uptimeMs: Date.now() - w.startedAt,
        memoryBytes: w.memoryBytes,
        maxRequests: w.maxRequests,
      })),
    };
  }
}
