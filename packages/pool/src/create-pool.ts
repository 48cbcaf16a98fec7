import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { SnakepitError } from "@snakepit/errors";
import {
  createHeartbeatMonitor,
  type HeartbeatFailure,
  type HeartbeatMonitor,
} from "@snakepit/heartbeat";
import {
  createLifecycleScheduler,
  type LifecycleScheduler,
  type RecycleReason,
  resolveMaxRequests,
  sampleMemory,
  type WorkerFacts,
} from "@snakepit/lifecycle";
import {
  type ExecuteRpcOptions,
  resolvePythonEnvironment,
  type WorkerExit,
  type WorkerProcess,
} from "@snakepit/python-bridge";
import { describeExit, removeStaleDirectories } from "@snakepit/python-bridge/internal";
import { createProcessRegistry, type ProcessRegistry } from "@snakepit/registry";
import { generateRunId } from "@snakepit/registry/internal";
import { currentCorrelationId } from "@snakepit/telemetry";
import { hasSubscribers, publish, startCallSpan } from "@snakepit/telemetry/internal";
import { abortError, CallQueue, type PendingCall } from "./call-queue.js";
import { LatencyRecorder } from "./latency-summary.js";
import { type PoolHostService, startPoolHostService } from "./pool-host-service.js";
import { type PoolOptions, resolvePoolOptions } from "./pool-options.js";
import type {
  ExecuteOptions,
  HostTool,
  Pool,
  PoolState,
  PoolStats,
  RestartReason,
} from "./pool-types.js";
import { SessionAffinity } from "./session-affinity.js";
import { validateSessionId } from "./session-input.js";
import { createMemorySessionStore, type SessionStore } from "./session-store.js";
import { createWorkerProcessManager, type WorkerProcessManager } from "./worker-process-manager.js";
import { type StopReason, WorkerSlot } from "./worker-slot.js";

/** Extra wiring for {@link createPool} beyond {@link PoolOptions}. */
export interface PoolWiring {
  /** JavaScript functions Python tools may call (`current_call().call_host_tool(name, ...)`). Default: none. */
  readonly hostTools?: Readonly<Record<string, HostTool>>;
  /** Where session state lives. Default: in memory, 1 h idle TTL. */
  readonly sessionStore?: SessionStore;
}

type Slot = WorkerSlot<PendingCall>;

/** A worker leased to one call. */
interface Lease {
  readonly slot: Slot;
  readonly proc: WorkerProcess;
  readonly rpc: ExecuteRpcOptions;
  /** Returns the worker after a success. */
  succeed(): void;
  /** Returns the worker after a failure, and maps the failure to the error the caller gets. */
  fail(err: unknown): Promise<SnakepitError>;
}

// A crashing worker's socket can close a few ms before its exit is reported; wait this long for
// the exit before calling a transport failure a transport failure.
const CRASH_SETTLE_MS = 1000;
// A worker that dies within this long of becoming ready counts towards the crash barrier.
const QUICK_CRASH_MS = 5000;
// After this many quick crashes or failed starts in a row the pool reports itself degraded.
const DEGRADED_AFTER = 3;
const MAX_BACKOFF_MS = 30_000;
// Errors after which an idempotent call may run again on another worker.
const RETRYABLE = new Set(["WORKER_CRASHED", "WORKER_UNHEALTHY"]);

/**
 * Creates a pool and starts its workers, all at once. Returns at once; `await pool.ready()`
 * to wait for the workers. Options are validated here: a bad option throws `INVALID_OPTIONS`.
 */
export function createPool(options: PoolOptions & PoolWiring): Pool {
  const { hostTools = {}, sessionStore, ...poolOptions } = options;
  const opts = resolvePoolOptions(poolOptions);
  const pool = opts.name;
  const log = opts.logger.child({ pool });
  const sessions = sessionStore ?? createMemorySessionStore();
  const slots = new Map<string, Slot>();
  const monitors = new Map<string, HeartbeatMonitor>();
  const queue = new CallQueue<Slot>(opts.maxQueue);
  const affinity = new SessionAffinity();
  const lifetime = new AbortController();
  // Every worker start in progress listens on it (a pool of 100 starts 100 at once): not a leak.
  setMaxListeners(0, lifetime.signal);
  const waits = new LatencyRecorder();
  const runs = new LatencyRecorder();
  let state: PoolState = "starting";
  let host: PoolHostService | undefined;
  let registry: ProcessRegistry | undefined;
  let manager: WorkerProcessManager | undefined;
  let startError: SnakepitError | undefined;
  let workerCounter = 0;
  // Call ids: unique per pool (a random prefix, then a counter), cheaper than a UUID per call.
  const callIdPrefix = randomUUID().slice(0, 8);
  let callCounter = 0;
  // Failed starts and quick crashes in a row: drives the backoff and the crash barrier.
  let failureStreak = 0;
  const counters = { succeeded: 0, failed: 0 };
  const restarts: Record<RestartReason, number> = { crashed: 0, unhealthy: 0, stuck: 0 };
  const recycles: Record<RecycleReason | "manual", number> = {
    ttl: 0,
    "max-requests": 0,
    memory: 0,
    unhealthy: 0,
    custom: 0,
    manual: 0,
  };
  let scheduler: LifecycleScheduler | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  // Recent worker start time and call run time (moving average), for starting successors early.
  let lastStartMs = 0;
  let avgRunMs = 0;
  let closing: Promise<void> | undefined;
  const drained: Array<() => void> = [];
  const readyCount = () => [...slots.values()].filter((s) => s.state.kind === "ready").length;
  let minReadyReached: () => void = () => undefined;
  const minReadyPromise = new Promise<void>((resolve) => {
    minReadyReached = resolve;
  });

  const readyPromise = start();
  readyPromise.catch(() => undefined);
  const signalHandlers = opts.handleSignals ? installSignalHandlers() : undefined;

  async function start(): Promise<void> {
    try {
      const python = (
        await resolvePythonEnvironment({
          pythonExecutable: opts.pythonExecutable,
          signal: lifetime.signal,
          onProgress: (line) => log.info({}, line),
        })
      ).executable;
      if (opts.registry !== undefined) {
        registry = await createProcessRegistry(
          opts.registry.dataDir === undefined ? {} : { dataDir: opts.registry.dataDir },
        );
        if (opts.registry.sweepOnStart) await sweep(registry);
      }
      // Socket directories of hosts that died without cleaning up (SIGKILL): theirs, not ours.
      // Never throws: a directory it cannot remove is logged, and the pool starts anyway.
      await removeStaleDirectories({
        onError: (path, err) =>
          log.warn({ path, err }, "could not remove a stale socket directory"),
      });
      // A misconfigured session store (wrong password, not Redis) fails here, not at the first call.
      await sessions.ready?.({ signal: lifetime.signal });
      const runId = registry?.runId ?? generateRunId();
      host = await startPoolHostService({
        sessions,
        hostTools,
        knowsWorker: (id) => slots.has(id),
        label: runId,
      });
      manager = createWorkerProcessManager({
        opts,
        python,
        runId,
        host,
        registry,
        log,
        signal: lifetime.signal,
      });
      const starts = Array.from({ length: opts.size }, () => startWorker());
      // A failure before minReady workers are up fails the pool; after that, the worker is replaced.
      const failures = starts.map((s) => s.then(() => new Promise<never>(() => undefined)));
      await Promise.race([minReadyPromise, ...failures]);
      for (const s of starts) s.catch(() => replaceWorker("crashed", `${pool}-start`));
      if (state === "starting") state = "ready";
      startLifecycle();
      log.info({ size: opts.size, ready: readyCount() }, "pool ready");
    } catch (err) {
      const error = SnakepitError.from(err, "WORKER_START_FAILED");
      if (state === "starting") {
        startError = error;
        state = "failed";
        queue.rejectAll(error);
        await shutdown("start-failed", 0);
      }
      throw error;
    }
  }

  async function sweep(reg: ProcessRegistry): Promise<void> {
    const started = performance.now();
    const report = await reg.sweepOrphans({ signal: lifetime.signal });
    if (report.orphansFound.length > 0) {
      publish("snakepit:registry:orphans_found", () => ({
        runIds: [...new Set(report.orphansFound.map((o) => o.runId))],
        count: report.orphansFound.length,
      }));
      log.warn(
        { found: report.orphansFound.length, killed: report.killed.length },
        "killed orphaned workers of dead hosts",
      );
    }
    publish("snakepit:registry:cleanup_completed", () => ({
      killed: report.killed.length,
      skipped: report.skipped.length,
      durationMs: performance.now() - started,
    }));
  }

  /** Starts one worker; resolves when it is ready; rejects (and leaves nothing behind) if it can't start. */
  async function startWorker(): Promise<void> {
    const slot: Slot = new WorkerSlot(
      `${pool}-${++workerCounter}`,
      opts.capacity,
      resolveMaxRequests(opts.recycle),
    );
    slots.set(slot.id, slot);
    let proc: WorkerProcess;
    const startedAt = performance.now();
    try {
      proc = await (manager as WorkerProcessManager).start(slot.id);
      lastStartMs = performance.now() - startedAt;
    } catch (err) {
      slots.delete(slot.id);
      slot.transition({ kind: "exited", exit: undefined, expected: false });
      throw err;
    }
    slot.process = proc;
    void proc.exited.then((exit) => onWorkerExit(slot, exit));
    if (!slot.transition({ kind: "ready" })) {
      // Stopped while starting (close/destroy ran): don't serve.
      await manager?.stop(slot.id, proc, 0);
      return;
    }
    startHeartbeat(slot, proc);
    log.debug({ workerId: slot.id, pid: proc.pid }, "worker ready");
    if (readyCount() >= opts.minReady) minReadyReached();
    pump();
  }

  function startHeartbeat(slot: Slot, proc: WorkerProcess): void {
    if (!opts.heartbeat.enabled) return;
    let sequence = 0n;
    const workerId = slot.id;
    const monitor = createHeartbeatMonitor({
      ...opts.heartbeat,
      name: workerId,
      ping: (signal) => proc.client.heartbeat(++sequence, { signal }),
      onFailure: (failure) => void stopUnhealthy(slot, failure),
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
    monitors.set(workerId, monitor);
    monitor.start();
  }

  /** Stops a worker that is alive but not serving (hung, or stuck in a cancelled call); its calls fail with `error`. */
  async function stopBroken(
    slot: Slot,
    reason: "unhealthy" | "stuck",
    error: SnakepitError,
  ): Promise<void> {
    if (!slot.transition({ kind: "stopping", reason })) return;
    log.warn({ workerId: slot.id, reason }, "stopping a broken worker; a replacement starts");
    abortCalls(slot, () => error);
    if (slot.process !== undefined)
      await manager?.stop(slot.id, slot.process, opts.shutdownGraceMs);
  }

  function stopUnhealthy(slot: Slot, failure: HeartbeatFailure): Promise<void> {
    const error = new SnakepitError(
      "WORKER_UNHEALTHY",
      `Worker ${slot.id} stopped answering heartbeats (${failure.error.message})`,
      { cause: failure.error, details: { workerId: slot.id, reason: failure.reason } },
    );
    return stopBroken(slot, "unhealthy", error);
  }

  function onWorkerExit(slot: Slot, exit: WorkerExit): void {
    // A worker that dies while draining (being recycled) already has its successor.
    const draining = slot.state.kind === "draining";
    const stopping = slot.state.kind === "stopping" ? slot.state.reason : undefined;
    slot.transition({ kind: "exited", exit, expected: stopping !== undefined });
    slots.delete(slot.id);
    monitors.get(slot.id)?.stop("worker exited");
    monitors.delete(slot.id);
    const pid = slot.process?.pid ?? -1;
    publish("snakepit:worker:exited", () => ({
      pool,
      workerId: slot.id,
      pid,
      exitCode: exit.code,
      signal: exit.signal,
      reason: stopping ?? "crashed",
    }));
    if (stopping === undefined) {
      log.warn(
        { workerId: slot.id, exitCode: exit.code, signal: exit.signal },
        "worker exited unexpectedly",
      );
      publish("snakepit:worker:crashed", () => ({
        pool,
        workerId: slot.id,
        pid,
        exitCode: exit.code,
        signal: exit.signal,
      }));
      const output = slot.process?.outputTail() ?? "";
      abortCalls(
        slot,
        (call) =>
          new SnakepitError(
            "WORKER_CRASHED",
            `Worker ${slot.id} exited (${describeExit(exit)}) while running "${call.tool}"`,
            { details: { workerId: slot.id, exitCode: exit.code, signal: exit.signal, output } },
          ),
      );
      // Its group and its registry record: the process is gone, but children may not be.
      if (slot.process !== undefined) void manager?.stop(slot.id, slot.process, 0);
      // The crash barrier: a worker that dies right after start counts like a failed start.
      failureStreak = Date.now() - slot.startedAt < QUICK_CRASH_MS ? failureStreak + 1 : 0;
    }
    if (!draining && (stopping === undefined || stopping === "unhealthy" || stopping === "stuck")) {
      if (state === "ready" || state === "starting") replaceWorker(stopping ?? "crashed", slot.id);
    }
    // Calls that may only run on this worker (strict affinity) now take any worker.
    pump();
  }

  function replaceWorker(reason: RestartReason, workerId: string): void {
    restarts[reason]++;
    // Exponential backoff after failed starts and quick crashes: 0, 100 ms, 200 ms ... 30 s.
    const delay =
      failureStreak === 0 ? 0 : Math.min(100 * 2 ** (failureStreak - 1), MAX_BACKOFF_MS);
    publish("snakepit:worker:restarted", () => ({ pool, workerId, reason, delayMs: delay }));
    const timer = setTimeout(() => {
      if (state !== "ready" && state !== "starting") return;
      startWorker().then(
        () => undefined,
        (err: unknown) => {
          if (state !== "ready" && state !== "starting") return;
          failureStreak++;
          const error = SnakepitError.from(err, "WORKER_START_FAILED");
          log.error({ err: error, streak: failureStreak }, "replacement worker failed to start");
          // With no worker left to serve them, waiting callers get the start error instead of hanging.
          if (readyCount() === 0) queue.rejectAll(degraded() ? degradedError(error) : error);
          restarts[reason]--;
          replaceWorker(reason, workerId);
        },
      );
    }, delay);
    timer.unref();
  }

  /**
   * Drain-then-swap: starts a successor, and only once it is ready stops giving the old worker
   * new calls; the old worker finishes its in-flight calls, then stops with escalation. So no
   * call fails and capacity never drops below `size` (it briefly exceeds it). Resolves when the
   * old worker is gone; if the successor cannot start, the old worker keeps serving.
   */
  function recycle(slot: Slot, reason: RecycleReason | "manual"): Promise<void> {
    slot.recycling ??= (async () => {
      if (slot.state.kind !== "ready" || state !== "ready") return;
      try {
        await startWorker();
      } catch (err) {
        log.warn(
          { err, workerId: slot.id, reason },
          "could not start a successor; the worker keeps serving",
        );
        slot.recycling = undefined;
        return;
      }
      if (!slot.transition({ kind: "draining", reason })) return;
      recycles[reason]++;
      const uptimeMs = Date.now() - slot.startedAt;
      publish("snakepit:worker:recycled", () => ({
        pool,
        workerId: slot.id,
        reason,
        uptimeMs,
        callsServed: slot.callsServed,
        memoryBytes: slot.memoryBytes,
      }));
      log.info(
        {
          workerId: slot.id,
          reason,
          uptimeMs,
          callsServed: slot.callsServed,
          memoryBytes: slot.memoryBytes,
        },
        "recycling a worker",
      );
      await slot.idle();
      if (!slot.transition({ kind: "stopping", reason: "recycled" })) return;
      if (slot.process !== undefined)
        await manager?.stop(slot.id, slot.process, opts.shutdownGraceMs);
    })();
    return slot.recycling;
  }

  /**
   * When to start a worker's successor so it is ready as the worker reaches its request limit:
   * as many calls before the limit as fit in one worker start (from recent start and call times).
   */
  function prewarmAt(limit: number): number {
    const leadCalls = avgRunMs > 0 ? Math.ceil(lastStartMs / avgRunMs) : 1;
    return Math.max(1, limit - leadCalls);
  }

  function facts(slot: Slot): WorkerFacts {
    return {
      workerId: slot.id,
      pid: slot.process?.pid,
      startedAt: slot.startedAt,
      callsServed: slot.callsServed,
      maxRequests: slot.maxRequests,
      memoryBytes: slot.memoryBytes,
      memorySampledAt: slot.memorySampledAt,
      healthy: slot.healthFailures === 0,
      consecutiveHealthFailures: slot.healthFailures,
    };
  }

  /** Recycling decisions (from the authoritative worker table, every check), memory samples, health checks. */
  function startLifecycle(): void {
    scheduler = createLifecycleScheduler({
      list: () =>
        [...slots.values()]
          .filter((s) => s.state.kind === "ready" && s.recycling === undefined)
          .map(facts),
      policy: opts.recycle,
      intervalMs: opts.memorySampleIntervalMs,
      checkIntervalMs: Math.min(1000, opts.memorySampleIntervalMs),
      sample: (f, signal) =>
        f.pid === undefined
          ? Promise.resolve(undefined)
          : sampleMemory(f.pid, { includeChildren: true, signal }),
      onSample: (workerId, sample) => {
        const slot = slots.get(workerId);
        if (slot === undefined) return;
        slot.memoryBytes = sample.bytes;
        slot.memorySampledAt = sample.sampledAt;
      },
      onRecycle: (workerId, decision) => {
        const slot = slots.get(workerId);
        if (slot !== undefined) void recycle(slot, decision.reason);
      },
      onError: (err) => log.warn({ err }, "lifecycle check failed"),
    });
    scheduler.start();
    if (opts.healthCheckIntervalMs > 0) {
      healthTimer = setInterval(() => void checkHealth(), opts.healthCheckIntervalMs);
      healthTimer.unref();
    }
  }

  /** One round of health checks: a real `Ping` RPC to every ready worker. */
  async function checkHealth(): Promise<void> {
    await Promise.all(
      [...slots.values()]
        .filter((s) => s.state.kind === "ready")
        .map(async (slot) => {
          try {
            await slot.process?.client.ping("health", {
              timeoutMs: Math.min(5000, opts.healthCheckIntervalMs),
            });
            slot.healthFailures = 0;
          } catch (err) {
            slot.healthFailures++;
            const error = SnakepitError.from(err);
            publish("snakepit:worker:health_check_failed", () => ({
              pool,
              workerId: slot.id,
              reason: error.code,
              error: error.message,
            }));
          }
        }),
    );
  }

  function degraded(): boolean {
    return failureStreak >= DEGRADED_AFTER;
  }

  function degradedError(cause: unknown): SnakepitError {
    return new SnakepitError(
      "POOL_DEGRADED",
      `Pool "${pool}" has no working worker: workers keep failing right after start (${failureStreak} in a row); retrying with backoff`,
      { cause },
    );
  }

  /** The worker a session call must or should run on, if it is still serving. */
  function sessionWorker(call: PendingCall): Slot | undefined {
    const sessionId = call.options.sessionId;
    if (sessionId === undefined) return undefined;
    const id = affinity.workerOf(sessionId);
    const slot = id === undefined ? undefined : slots.get(id);
    return slot?.state.kind === "ready" ? slot : undefined;
  }

  /**
   * Hands queued calls to workers with room: first each session call to its own worker if that
   * one has room, then the oldest calls to the least recently used workers (skipping calls that
   * must wait for their session's worker).
   */
  function pump(): void {
    if (queue.size === 0) {
      checkDrained();
      return;
    }
    const order = [...slots.values()];
    const granted: Slot[] = [];
    const fill = (slot: Slot, eligible: (call: PendingCall) => boolean) => {
      while (slot.available && queue.size > 0) {
        const call = queue.grantNext(slot, eligible);
        if (call === undefined) return;
        assign(slot, call);
        granted.push(slot);
      }
    };
    for (const slot of order) fill(slot, (c) => sessionWorker(c) === slot);
    for (const slot of order) fill(slot, (c) => mayRunOn(c, slot));
    // Workers that just got calls go to the back: the next call goes to the least recently used one.
    for (const slot of granted) {
      slots.delete(slot.id);
      slots.set(slot.id, slot);
    }
    checkDrained();
  }

  /** Books `call` onto `slot` (capacity, request count, early successor for `maxRequests`). */
  function assign(slot: Slot, call: PendingCall): void {
    slot.inFlight.add(call);
    slot.callsDispatched++;
    if (slot.maxRequests !== undefined && slot.callsDispatched >= prewarmAt(slot.maxRequests))
      void recycle(slot, "max-requests");
  }

  /** The least recently used worker with room, for a call that need not wait: none queued, no session. */
  function freeWorkerNow(call: PendingCall): Slot | undefined {
    if (queue.size > 0 || call.options.sessionId !== undefined) return undefined;
    for (const slot of slots.values()) if (slot.available) return slot;
    return undefined;
  }

  function mayRunOn(call: PendingCall, slot: Slot): boolean {
    const mode = call.options.affinity ?? opts.affinity;
    if (mode === "hint") return true;
    const own = sessionWorker(call);
    return own === undefined || own === slot;
  }

  function checkDrained(): void {
    // Only close() waits for the drain; skip the scan on the hot path.
    if (drained.length === 0) return;
    if (queue.size === 0 && ![...slots.values()].some((s) => s.inFlight.size > 0)) {
      for (const resolve of drained.splice(0)) resolve();
    }
  }

  function newCall(
    tool: string,
    args: Readonly<Record<string, unknown>> | undefined,
    callOptions: ExecuteOptions,
  ): PendingCall {
    if (state === "failed") throw startError;
    if (state === "closing" || state === "closed") throw closedError();
    if (typeof tool !== "string" || tool === "")
      throw new SnakepitError(
        "INVALID_ARGUMENTS",
        `Expected \`tool\` to be a non-empty string, got ${JSON.stringify(tool)}`,
      );
    if (callOptions.sessionId !== undefined) validateSessionId(callOptions.sessionId);
    return {
      id: `${callIdPrefix}-${++callCounter}`,
      tool,
      args,
      options: callOptions,
      correlationId: callOptions.correlationId ?? currentCorrelationId() ?? randomUUID(),
      enqueuedAt: performance.now(),
    };
  }

  /**
   * Waits for a worker for `call` and leases it. The lease's signal aborts on the caller's abort,
   * the call's deadline (counted from dispatch) or the worker's crash, each with its own error.
   */
  function acquire(call: PendingCall): Lease | Promise<Lease> {
    if (call.options.signal?.aborted) throw abortError(call);
    const own = sessionWorker(call);
    if (
      (call.options.affinity ?? opts.affinity) === "strict-fail-fast" &&
      own !== undefined &&
      !own.available
    ) {
      throw new SnakepitError(
        "SESSION_BUSY",
        `Session "${call.options.sessionId}" is bound to worker ${own.id}, which is busy (affinity "strict-fail-fast")`,
        { details: { workerId: own.id } },
      );
    }
    if (degraded() && readyCount() === 0) throw degradedError(undefined);
    if (queue.full) {
      publish("snakepit:queue:rejected", () => ({
        ...eventFields(call),
        reason: "full",
        depth: queue.size,
      }));
      throw new SnakepitError(
        "QUEUE_FULL",
        `Pool "${pool}" has ${queue.size} calls waiting, its \`maxQueue\`; try again later or raise \`maxQueue\``,
        { details: { maxQueue: opts.maxQueue } },
      );
    }
    if (hasSubscribers("snakepit:queue:enqueued"))
      publish("snakepit:queue:enqueued", { ...eventFields(call), depth: queue.size + 1 });
    // The hot path: a free worker and nobody waiting — no queue entry, no promise.
    const slot = freeWorkerNow(call);
    if (slot !== undefined) {
      assign(slot, call);
      slots.delete(slot.id);
      slots.set(slot.id, slot);
      return lease(call, slot);
    }
    const waiting = queue.wait(call, {
      timeoutMs: opts.queueTimeoutMs,
      onTimeout: () =>
        publish("snakepit:queue:timeout", () => ({
          ...eventFields(call),
          waitMs: performance.now() - call.enqueuedAt,
          depth: queue.size,
        })),
    });
    pump();
    return waiting.then((granted) => lease(call, granted));
  }

  /** The fields every call event carries. */
  function eventFields(call: PendingCall) {
    return { pool, tool: call.tool, callId: call.id, correlationId: call.correlationId };
  }

  /** Dispatches `call` to `slot` (already booked there): deadline, abort wiring, span, events. */
  function lease(call: PendingCall, slot: Slot): Lease {
    const dispatchedAt = performance.now();
    waits.record(dispatchedAt - call.enqueuedAt);
    if (call.options.sessionId !== undefined) affinity.assign(call.options.sessionId, slot.id);
    if (hasSubscribers("snakepit:queue:dequeued"))
      publish("snakepit:queue:dequeued", {
        ...eventFields(call),
        depth: queue.size,
        waitMs: dispatchedAt - call.enqueuedAt,
      });
    if (hasSubscribers("snakepit:call:start"))
      publish("snakepit:call:start", {
        ...eventFields(call),
        workerId: slot.id,
        waitMs: dispatchedAt - call.enqueuedAt,
      });
    const span = startCallSpan({
      pool,
      tool: call.tool,
      workerId: slot.id,
      correlationId: call.correlationId,
    });
    const timeoutMs = call.options.timeoutMs ?? opts.timeoutMs;
    const callerSignal = call.options.signal;
    // A signal of its own only for a call that has a deadline or a caller's signal (an
    // AbortController costs a few µs and GC work); the others share the worker's.
    let signal = slot.callSignal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    if (timeoutMs > 0 || callerSignal !== undefined) {
      const controller = new AbortController();
      call.controller = controller;
      signal = controller.signal;
      if (timeoutMs > 0) {
        timer = setTimeout(
          () =>
            abortCall(
              call,
              new SnakepitError(
                "CALL_TIMEOUT",
                `Call "${call.tool}" ran past its ${timeoutMs} ms deadline on worker ${slot.id}`,
                { details: { workerId: slot.id, timeoutMs } },
              ),
            ),
          timeoutMs,
        );
        timer.unref();
      }
      if (callerSignal !== undefined) {
        onAbort = () => abortCall(call, abortError(call));
        callerSignal.addEventListener("abort", onAbort, { once: true });
      }
    }
    let finished = false;
    const release = (error: SnakepitError | undefined) => {
      if (finished) return;
      finished = true;
      const durationMs = performance.now() - dispatchedAt;
      runs.record(durationMs);
      span.end(error);
      avgRunMs = avgRunMs === 0 ? durationMs : avgRunMs * 0.9 + durationMs * 0.1;
      if (error === undefined) {
        counters.succeeded++;
        if (hasSubscribers("snakepit:call:end"))
          publish("snakepit:call:end", { ...eventFields(call), workerId: slot.id, durationMs });
      } else {
        counters.failed++;
        publish("snakepit:call:error", () => ({
          ...eventFields(call),
          workerId: slot.id,
          durationMs,
          code: error.code,
        }));
      }
      clearTimeout(timer);
      if (onAbort !== undefined) callerSignal?.removeEventListener("abort", onAbort);
      // No abort() of the call's signal here: the RPC has ended and removed its listener, and
      // aborting without a reason builds a DOMException with a stack trace (~15 µs a call).
      slot.callsServed++;
      // A call cancelled while running keeps its place on the worker until Python has let go of it.
      if (error?.code === "CALL_TIMEOUT" || error?.code === "ABORTED")
        void awaitCancelled(slot, call);
      else freeCapacity(slot, call);
    };
    const proc = slot.process as WorkerProcess;
    return {
      slot,
      proc,
      rpc: {
        signal,
        metadata: span.carrier,
        correlationId: call.correlationId,
        callId: call.id,
        sessionId: call.options.sessionId,
        callMetadata: call.options.metadata,
        timeoutMs: timeoutMs > 0 ? timeoutMs : undefined,
      },
      succeed: () => release(undefined),
      async fail(err) {
        if (
          call.abortReason === undefined &&
          SnakepitError.from(err).code === "TRANSPORT_ERROR" &&
          proc.exit === undefined
        ) {
          await Promise.race([
            proc.exited,
            new Promise((resolve) => setTimeout(resolve, CRASH_SETTLE_MS).unref()),
          ]);
        }
        // The abort reason (deadline, caller's abort, worker crash) names the cause better than gRPC's status.
        const error = call.abortReason ?? SnakepitError.from(err, "INTERNAL");
        release(error);
        return error;
      },
    };
  }

  /** Cancels one running call: it fails with `error` (the first reason given wins). */
  function abortCall(call: PendingCall, error: SnakepitError): void {
    if (call.abortReason !== undefined) return;
    call.abortReason = error;
    call.controller?.abort(error);
  }

  /** Cancels every call running on a worker that crashed or is being stopped. */
  function abortCalls(slot: Slot, errorFor: (call: PendingCall) => SnakepitError): void {
    for (const call of slot.inFlight) abortCall(call, errorFor(call));
    // The calls without a signal of their own listen on the worker's.
    slot.abortCalls();
  }

  function freeCapacity(slot: Slot, call: PendingCall): void {
    slot.finish(call);
    pump();
  }

  /**
   * After a running call was cancelled, polls the worker until it reports the tool has stopped
   * (its in-flight count drops), then frees the capacity; a worker still running it after
   * `cancelGraceMs` is stuck: it is killed and replaced, so one stuck tool never blocks the pool.
   */
  async function awaitCancelled(slot: Slot, call: PendingCall): Promise<void> {
    const proc = slot.process;
    const deadline = performance.now() + opts.cancelGraceMs;
    while (proc !== undefined && slot.state.kind === "ready") {
      const others = slot.inFlight.size - 1;
      const res = await proc.client.heartbeat(0n, { timeoutMs: 1000 }).catch(() => undefined);
      if (res !== undefined && res.inFlight <= others) return freeCapacity(slot, call);
      if (performance.now() >= deadline) {
        slot.finish(call);
        const error = new SnakepitError(
          "WORKER_UNHEALTHY",
          `Worker ${slot.id} kept running "${call.tool}" ${opts.cancelGraceMs} ms after it was cancelled`,
          { details: { workerId: slot.id, reason: "stuck" } },
        );
        return stopBroken(slot, "stuck", error);
      }
      await new Promise((resolve) => setTimeout(resolve, 20).unref());
    }
    slot.finish(call);
  }

  async function* streamOnWorker<T>(call: PendingCall): AsyncGenerator<T, void, undefined> {
    const lease = await acquire(call);
    try {
      // Breaking out of the consumer's loop returns this generator, whose loop returns the
      // client's stream, which cancels the RPC and so closes the Python generator.
      yield* lease.proc.client.executeStream<T>(call.tool, call.args, lease.rpc);
      lease.succeed();
    } catch (err) {
      throw await lease.fail(err);
    } finally {
      // The consumer broke out of its loop: not a failure of the call.
      lease.succeed();
    }
  }

  async function executeOnce<T>(call: PendingCall): Promise<T> {
    const leased = acquire(call);
    // No await (and no extra turn of the microtask queue) when a worker was free at once.
    const lease = leased instanceof Promise ? await leased : leased;
    try {
      const result = await lease.proc.client.execute<T>(call.tool, call.args, lease.rpc);
      lease.succeed();
      return result.value;
    } catch (err) {
      throw await lease.fail(err);
    }
  }

  /** `execute` of an idempotent call: runs it again on another worker after a crash or hang. */
  async function executeWithRetries<T>(
    tool: string,
    args: Readonly<Record<string, unknown>> | undefined,
    callOptions: ExecuteOptions,
  ): Promise<T> {
    let attempts = 1 + opts.retries;
    for (;;) {
      try {
        return await executeOnce<T>(newCall(tool, args, callOptions));
      } catch (err) {
        const error = SnakepitError.from(err);
        if (--attempts <= 0 || !RETRYABLE.has(error.code)) throw error;
        log.warn({ tool, code: error.code }, "retrying an idempotent call on another worker");
      }
    }
  }

  async function shutdown(reason: StopReason, graceMs: number): Promise<void> {
    lifetime.abort(new SnakepitError("POOL_CLOSED", `Pool "${pool}" is closed`));
    clearInterval(healthTimer);
    await scheduler?.stop();
    signalHandlers?.remove();
    for (const monitor of monitors.values()) monitor.stop("pool closed");
    monitors.clear();
    const stopping = [...slots.values()].map(async (slot) => {
      slot.transition({ kind: "stopping", reason });
      if (slot.process !== undefined) await manager?.stop(slot.id, slot.process, graceMs);
    });
    await Promise.all(stopping);
    slots.clear();
    await manager?.close();
    await host?.close();
    await registry?.close();
    if (sessionStore === undefined) sessions.close();
  }

  function closedError(): SnakepitError {
    return new SnakepitError(
      "POOL_CLOSED",
      `Pool "${pool}" is ${state === "closing" ? "closing" : "closed"} and takes no new calls`,
    );
  }

  function installSignalHandlers(): { remove(): void } {
    const onSignal = (sig: NodeJS.Signals) => {
      remove();
      log.info({ signal: sig }, "closing the pool on a signal");
      void self.close().finally(() => process.kill(process.pid, sig));
    };
    const remove = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    return { remove };
  }

  const self: Pool = {
    name: pool,
    get state() {
      return state;
    },
    ready({ signal } = {}) {
      if (signal === undefined) return readyPromise;
      if (signal.aborted) return Promise.reject(SnakepitError.from(signal.reason, "ABORTED"));
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(SnakepitError.from(signal.reason, "ABORTED"));
        signal.addEventListener("abort", onAbort, { once: true });
        readyPromise
          .then(resolve, reject)
          .finally(() => signal.removeEventListener("abort", onAbort));
      });
    },
    execute<T>(
      tool: string,
      args?: Readonly<Record<string, unknown>>,
      callOptions: ExecuteOptions = {},
    ): Promise<T> {
      if (callOptions.idempotent === true && opts.retries > 0)
        return executeWithRetries<T>(tool, args, callOptions);
      // The common case without the retry loop's extra promise.
      try {
        return executeOnce<T>(newCall(tool, args, callOptions));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    executeStream<T>(
      tool: string,
      args?: Readonly<Record<string, unknown>>,
      callOptions: ExecuteOptions = {},
    ): AsyncIterable<T> {
      return {
        [Symbol.asyncIterator]: () => streamOnWorker<T>(newCall(tool, args, callOptions)),
      };
    },
    stats(): PoolStats {
      const workers = { starting: 0, idle: 0, busy: 0, stopping: 0 };
      let inFlight = 0;
      for (const slot of slots.values()) {
        inFlight += slot.inFlight.size;
        const kind = slot.state.kind;
        if (kind === "starting") workers.starting++;
        else if (kind === "stopping" || kind === "draining") workers.stopping++;
        else if (kind === "ready") slot.inFlight.size > 0 ? workers.busy++ : workers.idle++;
      }
      return {
        name: pool,
        state,
        health: degraded() ? "degraded" : "ok",
        workers,
        queueDepth: queue.size,
        inFlight,
        callsSucceeded: counters.succeeded,
        callsFailed: counters.failed,
        restarts: restarts.crashed + restarts.unhealthy + restarts.stuck,
        restartsByReason: { ...restarts },
        recyclesByReason: { ...recycles },
        waitMs: waits.summary(),
        runMs: runs.summary(),
        pids: [...slots.values()].flatMap((s) =>
          s.state.kind === "ready" && s.process !== undefined ? [s.process.pid] : [],
        ),
        workerDetails: [...slots.values()].map((s) => ({
          workerId: s.id,
          pid: s.process?.pid,
          address: s.process?.address,
          state: s.state.kind,
          inFlight: s.inFlight.size,
          callsServed: s.callsServed,
          uptimeMs: Date.now() - s.startedAt,
          memoryBytes: s.memoryBytes,
          maxRequests: s.maxRequests,
        })),
      };
    },
    async recycle(workerId: string): Promise<void> {
      const slot = slots.get(workerId);
      if (slot === undefined)
        throw new SnakepitError(
          "INVALID_ARGUMENTS",
          `Pool "${pool}" has no worker "${workerId}"; see stats().workerDetails`,
        );
      await recycle(slot, "manual");
    },
    async recycleAll(): Promise<void> {
      // Rolling: one worker at a time, so capacity never drops.
      for (const slot of [...slots.values()].filter((s) => s.state.kind === "ready"))
        await recycle(slot, "manual");
    },
    close({ timeoutMs = 30_000 } = {}) {
      closing ??= (async () => {
        if (state === "starting" || state === "ready") {
          state = "closing";
          await readyPromise.catch(() => undefined);
          const drainedNow = new Promise<void>((resolve) => {
            drained.push(resolve);
            checkDrained();
          });
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          });
          await Promise.race([drainedNow, deadline]);
          clearTimeout(timer);
          queue.rejectAll(closedError());
        }
        state = "closing";
        await shutdown("close", opts.shutdownGraceMs);
        state = "closed";
      })();
      return closing;
    },
    destroy() {
      if (state !== "closed" && state !== "failed") state = "closing";
      queue.rejectAll(closedError());
      for (const slot of slots.values())
        abortCalls(
          slot,
          (call) =>
            new SnakepitError(
              "WORKER_STOPPED",
              `Pool "${pool}" was destroyed while "${call.tool}" ran`,
            ),
        );
      closing ??= (async () => {
        await shutdown("destroy", 0);
        state = "closed";
      })();
      return closing;
    },
  };
  return self;
}
