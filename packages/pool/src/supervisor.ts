import { SnakepitError } from "@snakepit/errors";
import { createHeartbeatMonitor, type HeartbeatMonitor } from "@snakepit/heartbeat";
import { resolveMaxRequests } from "@snakepit/lifecycle";
import type { WorkerExit, WorkerProcess } from "@snakepit/python-bridge";
import { describeExit } from "@snakepit/python-bridge/internal";
import { publish } from "@snakepit/telemetry/internal";
import { abortCalls } from "./call-lease.js";
import type { PendingCall } from "./call-queue.js";
import { CrashBarrier, classifyExit, type ExitKind } from "./crash-barrier.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Logger } from "./logger.js";
import type { PoolResources } from "./pool-resources.js";
import type { PoolStateMachine } from "./pool-state.js";
import type { PoolStatsRecorder } from "./pool-stats.js";
import type { RestartReason } from "./pool-types.js";
import type { ResolvedPoolOptions } from "./resolve-pool-options.js";
import type { WorkerSet } from "./worker-set.js";
import type { StopReason, WorkerSlot } from "./worker-slot.js";

type Worker = WorkerSlot<PendingCall>;

/** What the {@link Supervisor} needs from its pool. */
export interface SupervisorOptions {
  readonly opts: ResolvedPoolOptions;
  readonly log: Logger;
  readonly state: PoolStateMachine;
  readonly workers: WorkerSet<PendingCall>;
  readonly dispatcher: Dispatcher;
  readonly resources: PoolResources;
  readonly stats: PoolStatsRecorder;
}

/**
 * Starts workers, watches them (exits, heartbeats) and replaces the ones that crash, hang or
 * get stuck — with backoff and a crash barrier ({@link CrashBarrier}) for adapters that die on
 * start.
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #monitors = new Map<string, HeartbeatMonitor>();
  readonly barrier = new CrashBarrier();
  /** How long the last successful worker start took, in ms. */
  lastStartMs = 0;

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  /**
   * Starts the pool's `size` workers at once; resolves when `minReady` are ready. A failure
   * before that rejects (the pool fails); after it, a worker that failed to start is replaced.
   */
  async startAll(): Promise<void> {
    const { opts, state } = this.#o;
    const starts = Array.from({ length: opts.size }, () => this.startWorker());
    const failures = starts.map((s) => s.then(() => new Promise<never>(() => undefined)));
    await Promise.race([state.minReady, ...failures]);
    for (const s of starts) s.catch(() => this.replace("crashed", `${opts.name}-start`));
  }

  /** Fails every call on every worker with the error `errorFor` gives (the pool is destroyed). */
  abortAllCalls(errorFor: (call: PendingCall) => SnakepitError): void {
    for (const worker of this.#o.workers.values()) abortCalls(worker, errorFor);
  }

  /** Starts one worker; resolves when it is ready; rejects (and leaves nothing behind) if it can't start. */
  async startWorker(): Promise<void> {
    const { opts, workers, resources } = this.#o;
    const worker = workers.create(
      opts.capacity,
      resolveMaxRequests(opts.recycle),
      opts.profile === "process",
      opts.adaptiveWindow,
    );
    const startedAt = performance.now();
    let proc: WorkerProcess;
    try {
      proc = await resources.manager.start(worker.id);
      this.lastStartMs = performance.now() - startedAt;
    } catch (err) {
      workers.transition(worker, { kind: "exited", exit: undefined, expected: false });
      workers.delete(worker);
      throw err;
    }
    worker.process = proc;
    void proc.exited.then((exit) => this.#onExit(worker, exit));
    if (!workers.transition(worker, { kind: "ready" })) {
      // Stopped while starting (close/destroy ran): don't serve.
      await resources.openManager?.stop(worker.id, proc, 0);
      return;
    }
    worker.readyAt = performance.now();
    this.barrier.started();
    this.#startHeartbeat(worker, proc);
    this.#o.log.debug({ workerId: worker.id, pid: proc.pid }, "worker ready");
    if (workers.readyCount >= opts.minReady) this.#o.state.reachedMinReady();
    this.#o.dispatcher.fill(worker);
  }

  /** Stops a worker that is alive but not serving (hung, or stuck in a cancelled call); its calls fail with `error`. */
  async stopBroken(
    worker: Worker,
    reason: "unhealthy" | "stuck",
    error: SnakepitError,
  ): Promise<void> {
    if (!this.#o.workers.transition(worker, { kind: "stopping", reason })) return;
    this.#o.log.warn(
      { workerId: worker.id, reason },
      "stopping a broken worker; a replacement starts",
    );
    abortCalls(worker, () => error);
    this.#o.dispatcher.fillAll(worker);
    if (worker.process !== undefined)
      await this.#o.resources.openManager?.stop(
        worker.id,
        worker.process,
        this.#o.opts.shutdownGraceMs,
      );
  }

  /**
   * Starts a replacement for a worker that is gone, after the crash barrier's delay for how it
   * went (`killed` from outside: at once).
   */
  replace(
    reason: RestartReason,
    workerId: string,
    kind: ExitKind | "start-failed" = "crash",
  ): void {
    const { stats, state, log } = this.#o;
    stats.restarts[reason]++;
    const delay = this.barrier.delayMs(kind);
    publish("snakepit:worker:restarted", () => ({
      pool: this.#o.opts.name,
      workerId,
      reason,
      delayMs: delay,
    }));
    const timer = setTimeout(() => {
      if (!state.running) return;
      this.startWorker().then(
        () => undefined,
        (err: unknown) => {
          if (!state.running) return;
          this.barrier.startFailed();
          const error = SnakepitError.from(err, "WORKER_START_FAILED");
          log.error(
            { err: error, streak: this.barrier.streak },
            "replacement worker failed to start",
          );
          // With no worker left to serve them, waiting callers get the start error instead of hanging.
          if (this.#o.workers.readyCount === 0)
            this.#o.dispatcher.rejectAll(this.degraded ? this.degradedError(error) : error);
          stats.restarts[reason]--;
          this.replace(reason, workerId, "start-failed");
        },
      );
    }, delay);
    timer.unref();
  }

  /** True while the pool cannot start workers (see {@link CrashBarrier.degraded}). */
  get degraded(): boolean {
    return this.barrier.degraded(this.#o.workers.readyCount);
  }

  /** The error calls get while no worker can start. */
  degradedError(cause: unknown): SnakepitError {
    return new SnakepitError(
      "POOL_DEGRADED",
      `Pool "${this.#o.opts.name}" has no working worker: workers keep failing right after start (${this.barrier.streak} in a row); retrying with backoff`,
      { cause },
    );
  }

  /** Stops every worker (close or destroy): monitors first, then the processes, with `graceMs`. */
  async stopAll(reason: StopReason, graceMs: number): Promise<void> {
    for (const monitor of this.#monitors.values()) monitor.stop("pool closed");
    this.#monitors.clear();
    const { workers, resources } = this.#o;
    const all = [...workers.values()];
    await Promise.all(
      all.map(async (worker) => {
        workers.transition(worker, { kind: "stopping", reason });
        if (worker.process !== undefined)
          await resources.openManager?.stop(worker.id, worker.process, graceMs);
      }),
    );
    for (const worker of all) workers.delete(worker);
  }

  #onExit(worker: Worker, exit: WorkerExit): void {
    const { workers, opts, log } = this.#o;
    const pool = opts.name;
    // A worker that dies while draining (being recycled) already has its successor.
    const draining = worker.state.kind === "draining";
    const stopping = worker.state.kind === "stopping" ? worker.state.reason : undefined;
    workers.transition(worker, { kind: "exited", exit, expected: stopping !== undefined });
    workers.delete(worker);
    this.#monitors.get(worker.id)?.stop("worker exited");
    this.#monitors.delete(worker.id);
    const pid = worker.process?.pid ?? -1;
    publish("snakepit:worker:exited", () => ({
      pool,
      workerId: worker.id,
      pid,
      exitCode: exit.code,
      signal: exit.signal,
      reason: stopping ?? "crashed",
    }));
    if (stopping === undefined) {
      log.warn(
        { workerId: worker.id, exitCode: exit.code, signal: exit.signal },
        "worker exited unexpectedly",
      );
      publish("snakepit:worker:crashed", () => ({
        pool,
        workerId: worker.id,
        pid,
        exitCode: exit.code,
        signal: exit.signal,
      }));
      const output = worker.process?.outputTail() ?? "";
      abortCalls(
        worker,
        (call) =>
          new SnakepitError(
            "WORKER_CRASHED",
            `Worker ${worker.id} exited (${describeExit(exit)}) while running "${call.tool}"`,
            { details: { workerId: worker.id, exitCode: exit.code, signal: exit.signal, output } },
          ),
      );
      // Its group and its registry record: the process is gone, but children may not be.
      if (worker.process !== undefined)
        void this.#o.resources.openManager?.stop(worker.id, worker.process, 0);
    }
    const kind = classifyExit(exit);
    if (stopping === undefined) this.barrier.exited(kind, Date.now() - worker.startedAt);
    if (!draining && (stopping === undefined || stopping === "unhealthy" || stopping === "stuck")) {
      // A worker the pool stopped as broken is replaced at once, like one killed from outside.
      if (this.#o.state.running)
        this.replace(stopping ?? "crashed", worker.id, stopping === undefined ? kind : "killed");
    }
    // Calls that may only run on this worker (strict affinity) now take any worker.
    this.#o.dispatcher.fillAll(worker);
  }

  #startHeartbeat(worker: Worker, proc: WorkerProcess): void {
    const { opts } = this.#o;
    if (!opts.heartbeat.enabled) return;
    let sequence = 0n;
    const pool = opts.name;
    const workerId = worker.id;
    const monitor = createHeartbeatMonitor({
      ...opts.heartbeat,
      name: workerId,
      ping: (signal) => proc.client.heartbeat(++sequence, { signal }),
      onFailure: (failure) =>
        void this.stopBroken(
          worker,
          "unhealthy",
          new SnakepitError(
            "WORKER_UNHEALTHY",
            `Worker ${workerId} stopped answering heartbeats (${failure.error.message})`,
            { cause: failure.error, details: { workerId, reason: failure.reason } },
          ),
        ),
      onEvent: (e) => {
        if (e.type === "ping_sent")
          publish("snakepit:heartbeat:ping_sent", () => ({ pool, workerId, sequence: e.sequence }));
        else if (e.type === "pong_received")
          publish("snakepit:heartbeat:pong_received", () => ({
            pool,
            workerId,
            sequence: e.sequence,
            latencyMs: e.latencyMs,
          }));
        else if (e.type === "heartbeat_timeout")
          publish("snakepit:heartbeat:heartbeat_timeout", () => ({
            pool,
            workerId,
            sequence: e.sequence,
            missed: e.missed,
            cause: e.cause,
          }));
        else if (e.type === "monitor_failure")
          publish("snakepit:heartbeat:monitor_failure", () => ({
            pool,
            workerId,
            reason: e.reason,
            missed: e.missed,
          }));
        else
          publish("snakepit:heartbeat:monitor_stopped", () => ({
            pool,
            workerId,
            reason: e.reason,
          }));
      },
    });
    this.#monitors.set(workerId, monitor);
    monitor.start();
  }
}
