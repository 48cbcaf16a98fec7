import { SnakepitError } from "@snakepit/errors";
import {
  createLifecycleScheduler,
  type LifecycleScheduler,
  type RecycleReason,
  sampleMemory,
  type WorkerFacts,
} from "@snakepit/lifecycle";
import { publish } from "@snakepit/telemetry/internal";
import type { PendingCall } from "./call-queue.js";
import type { Logger } from "./logger.js";
import type { PoolResources } from "./pool-resources.js";
import type { PoolStateMachine } from "./pool-state.js";
import type { PoolStatsRecorder } from "./pool-stats.js";
import { shouldPrewarm } from "./prewarm.js";
import type { ResolvedPoolOptions } from "./resolve-pool-options.js";
import type { WorkerSet } from "./worker-set.js";
import type { WorkerSlot } from "./worker-slot.js";

type Worker = WorkerSlot<PendingCall>;

/** What the {@link Recycler} needs from its pool. */
export interface RecyclerOptions {
  readonly opts: ResolvedPoolOptions;
  readonly log: Logger;
  readonly state: PoolStateMachine;
  readonly workers: WorkerSet<PendingCall>;
  readonly resources: PoolResources;
  readonly stats: PoolStatsRecorder;
  /** Starts a worker (the successor); resolves once it is ready. */
  readonly startWorker: () => Promise<void>;
  /** How long the last worker start took, in ms. */
  readonly lastStartMs: () => number;
  /** A worker stopped taking calls (it drains): calls bound to it may go elsewhere. */
  readonly stoppedServing: (worker: Worker) => void;
}

/**
 * Replaces workers that have served long enough, by drain-then-swap: the successor starts
 * (early, for request limits — see {@link shouldPrewarm}), and only once it is ready does the old
 * worker stop taking calls, finish the ones it has and stop. Runs the lifecycle scheduler
 * (TTL, memory, request and custom rules) and the periodic health checks.
 */
export class Recycler {
  readonly #o: RecyclerOptions;
  #scheduler: LifecycleScheduler | undefined;
  #healthTimer: NodeJS.Timeout | undefined;

  constructor(options: RecyclerOptions) {
    this.#o = options;
  }

  /**
   * After a call was booked on `worker`: start its successor early when its request limit nears
   * ({@link shouldPrewarm}); at its own limit (`maxRequests` + its jitter draw) hand it over if the
   * successor is ready; at `maxRequests + maxRequestsJitter` stop booking it in any case. So a
   * worker serves between `maxRequests` and `maxRequests + maxRequestsJitter` calls, never fewer.
   */
  booked(worker: Worker): void {
    const limit = worker.maxRequests;
    if (limit === undefined) return;
    const dispatched = worker.callsDispatched;
    if (dispatched >= limit) worker.limitReached?.();
    if (dispatched >= this.#hardLimit) this.#o.workers.stopBooking(worker);
    if (worker.recycling !== undefined || worker.state.kind !== "ready") return;
    const uptimeMs = performance.now() - (worker.readyAt ?? performance.now());
    if (shouldPrewarm({ dispatched, limit, uptimeMs, startMs: this.#o.lastStartMs() }))
      void this.recycle(worker, "max-requests");
  }

  /** The most calls any worker may be handed: `maxRequests + maxRequestsJitter`. */
  get #hardLimit(): number {
    const { maxRequests, maxRequestsJitter = 0 } = this.#o.opts.recycle;
    return maxRequests === undefined ? Number.POSITIVE_INFINITY : maxRequests + maxRequestsJitter;
  }

  /**
   * Drain-then-swap: starts a successor, and only once it is ready stops giving the old worker
   * new calls; the old worker finishes its in-flight calls, then stops with escalation. So no
   * call fails and capacity never drops below `size` (it briefly exceeds it). Resolves when the
   * old worker is gone; if the successor cannot start, the old worker keeps serving.
   */
  recycle(worker: Worker, reason: RecycleReason | "manual"): Promise<void> {
    worker.recycling ??= this.#swap(worker, reason);
    return worker.recycling;
  }

  /** Starts the scheduler (recycling decisions, memory samples) and the health checks. */
  start(): void {
    const { opts, workers, log } = this.#o;
    this.#scheduler = createLifecycleScheduler({
      list: () =>
        [...workers.values()]
          .filter((w) => w.state.kind === "ready" && w.recycling === undefined)
          .map(facts),
      policy: opts.recycle,
      intervalMs: opts.memorySampleIntervalMs,
      checkIntervalMs: Math.min(1000, opts.memorySampleIntervalMs),
      sample: (f, signal) =>
        f.pid === undefined
          ? Promise.resolve(undefined)
          : sampleMemory(f.pid, { includeChildren: true, signal }),
      onSample: (workerId, sample) => {
        const worker = workers.get(workerId);
        if (worker === undefined) return;
        worker.memoryBytes = sample.bytes;
        worker.memorySampledAt = sample.sampledAt;
      },
      onRecycle: (workerId, decision) => {
        const worker = workers.get(workerId);
        if (worker !== undefined) void this.recycle(worker, decision.reason);
      },
      onError: (err) => log.warn({ err }, "lifecycle check failed"),
    });
    this.#scheduler.start();
    if (opts.healthCheckIntervalMs > 0) {
      this.#healthTimer = setInterval(() => void this.#checkHealth(), opts.healthCheckIntervalMs);
      this.#healthTimer.unref();
    }
  }

  /** Stops the scheduler and the health checks. */
  async stop(): Promise<void> {
    clearInterval(this.#healthTimer);
    await this.#scheduler?.stop();
  }

  async #swap(worker: Worker, reason: RecycleReason | "manual"): Promise<void> {
    const { workers, state, log, stats } = this.#o;
    if (worker.state.kind !== "ready" || state.kind !== "ready") return;
    try {
      await this.#o.startWorker();
    } catch (err) {
      log.warn(
        { err, workerId: worker.id, reason },
        "could not start a successor; the worker keeps serving",
      );
      worker.recycling = undefined;
      return;
    }
    if (!workers.transition(worker, { kind: "draining", reason })) return;
    this.#o.stoppedServing(worker);
    stats.recycles[reason]++;
    const fields = {
      workerId: worker.id,
      reason,
      uptimeMs: Date.now() - worker.startedAt,
      callsServed: worker.callsServed,
      memoryBytes: worker.memoryBytes,
    };
    publish("snakepit:worker:recycled", () => ({ pool: this.#o.opts.name, ...fields }));
    log.info(fields, "recycling a worker");
    await worker.idle();
    if (!workers.transition(worker, { kind: "stopping", reason: "recycled" })) return;
    if (worker.process !== undefined)
      await this.#o.resources.openManager?.stop(
        worker.id,
        worker.process,
        this.#o.opts.shutdownGraceMs,
      );
  }

  /** One round of health checks: a real `Ping` RPC to every ready worker. */
  async #checkHealth(): Promise<void> {
    const { workers, opts } = this.#o;
    await Promise.all(
      [...workers.values()]
        .filter((w) => w.state.kind === "ready")
        .map(async (worker) => {
          try {
            await worker.process?.client.ping("health", {
              timeoutMs: Math.min(5000, opts.healthCheckIntervalMs),
            });
            worker.healthFailures = 0;
          } catch (err) {
            worker.healthFailures++;
            const error = SnakepitError.from(err);
            publish("snakepit:worker:health_check_failed", () => ({
              pool: opts.name,
              workerId: worker.id,
              reason: error.code,
              error: error.message,
            }));
          }
        }),
    );
  }
}

function facts(worker: Worker): WorkerFacts {
  return {
    workerId: worker.id,
    pid: worker.process?.pid,
    startedAt: worker.startedAt,
    callsServed: worker.callsServed,
    maxRequests: worker.maxRequests,
    memoryBytes: worker.memoryBytes,
    memorySampledAt: worker.memorySampledAt,
    healthy: worker.healthFailures === 0,
    consecutiveHealthFailures: worker.healthFailures,
  };
}
