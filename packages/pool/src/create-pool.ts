import { setMaxListeners } from "node:events";
import { SnakepitError } from "@snakepit/errors";
import { type CallLeaseOptions, leaseWorker } from "./call-lease.js";
import type { PendingCall } from "./call-queue.js";
import { Dispatcher } from "./dispatcher.js";
import { validateExecuteOptions } from "./execute-options.js";
import { registerWorkerProcesses } from "./pool-internals.js";
import type { PoolOptions } from "./pool-options.js";
import { PoolResources } from "./pool-resources.js";
import { PoolStateMachine } from "./pool-state.js";
import { PoolStatsRecorder } from "./pool-stats.js";
import type { ExecuteOptions, HostTool, Pool } from "./pool-types.js";
import { Recycler } from "./recycler.js";
import { resolvePoolOptions } from "./resolve-pool-options.js";
import {
  type CallRunnerOptions,
  executeOnce,
  executeWithRetries,
  rejectLater,
  streamCall,
} from "./run-call.js";
import { SessionAffinity } from "./session-affinity.js";
import { createMemorySessionStore, type SessionStore } from "./session-store.js";
import { settledWithin, untilAborted } from "./settled-within.js";
import { closeOnSignals } from "./signal-handlers.js";
import { Supervisor } from "./supervisor.js";
import { WorkerSet } from "./worker-set.js";
import type { StopReason } from "./worker-slot.js";

/** Extra wiring for {@link createPool} beyond {@link PoolOptions}. */
export interface PoolWiring {
  /** JavaScript functions Python tools may call (`current_call().call_host_tool(name, ...)`). Default: none. */
  readonly hostTools?: Readonly<Record<string, HostTool>>;
  /** Where session state lives. Default: in memory, 1 h idle TTL. */
  readonly sessionStore?: SessionStore;
}

/**
 * Creates a pool and starts its workers, all at once. Returns at once; `await pool.ready()`
 * to wait for the workers. Options are validated here: a bad option throws `INVALID_OPTIONS`.
 *
 * This function wires the pool's parts and implements the {@link Pool} façade; the rules live
 * in the parts: {@link PoolStateMachine}, {@link PoolResources}, {@link WorkerSet},
 * {@link Dispatcher} (with `selectWorker`), the call lease, {@link Supervisor} (with the crash
 * barrier and `restartDelayMs`), {@link Recycler} (with `shouldPrewarm`) and {@link PoolStatsRecorder}.
 */
export function createPool(options: PoolOptions & PoolWiring): Pool {
  const { hostTools = {}, sessionStore, ...poolOptions } = options;
  const opts = resolvePoolOptions(poolOptions);
  const name = opts.name;
  const log = opts.logger.child({ pool: name });
  const lifetime = new AbortController();
  // Every worker start in progress listens on it (a pool of 100 starts 100 at once): not a leak.
  setMaxListeners(0, lifetime.signal);
  const state = new PoolStateMachine(name);
  const stats = new PoolStatsRecorder();
  const workers = new WorkerSet<PendingCall>(name);
  const resources = new PoolResources({
    opts,
    log,
    sessions: sessionStore ?? createMemorySessionStore(),
    ownsSessions: sessionStore === undefined,
    hostTools,
    knowsWorker: (id) => workers.has(id),
    signal: lifetime.signal,
  });
  const dispatcher: Dispatcher = new Dispatcher({
    pool: name,
    maxQueue: opts.maxQueue,
    queueTimeoutMs: opts.queueTimeoutMs,
    affinity: opts.affinity,
    workers,
    sessions: new SessionAffinity(),
    refusal: () =>
      state.refusal() ??
      (supervisor.degraded && workers.readyCount === 0
        ? supervisor.degradedError(undefined)
        : undefined),
    onBooked: (worker) => recycler.booked(worker),
  });
  const supervisor = new Supervisor({ opts, log, state, workers, dispatcher, resources, stats });
  const recycler = new Recycler({
    opts,
    log,
    state,
    workers,
    resources,
    stats,
    startWorker: () => supervisor.startWorker(),
    lastStartMs: () => supervisor.lastStartMs,
    stoppedServing: (worker) => dispatcher.fillAll(worker),
  });
  const leaseOptions: CallLeaseOptions = {
    pool: name,
    tracerProvider: opts.tracerProvider,
    timeoutMs: opts.timeoutMs,
    cancelGraceMs: opts.cancelGraceMs,
    stats,
    queueDepth: () => dispatcher.queueSize,
    release: (w, c, toolMs) => dispatcher.release(w, c, toolMs),
    setCancelling: (w, cancelling) => workers.setCancelling(w, cancelling),
    stopStuck: (w, error) => void supervisor.stopBroken(w, "stuck", error),
    stopUnhealthy: (w, error) => void supervisor.stopBroken(w, "unhealthy", error),
  };
  const runner: CallRunnerOptions = {
    dispatcher,
    retries: opts.retries,
    log,
    lease: (call, worker) => leaseWorker(leaseOptions, call, worker),
  };
  let closing: Promise<void> | undefined;

  async function start(): Promise<void> {
    try {
      await resources.open();
      await supervisor.startAll();
      state.transition({ kind: "ready" });
      recycler.start();
      log.info({ size: opts.size, ready: workers.readyCount }, "pool ready");
    } catch (err) {
      const error = SnakepitError.from(err, "WORKER_START_FAILED");
      if (state.transition({ kind: "failed", error })) {
        dispatcher.rejectAll(error);
        await shutdown("start-failed", 0);
      }
      throw error;
    }
  }

  async function shutdown(reason: StopReason, graceMs: number): Promise<void> {
    lifetime.abort(new SnakepitError("POOL_CLOSED", `Pool "${name}" is closed`));
    await recycler.stop();
    signalHandlers?.remove();
    await supervisor.stopAll(reason, graceMs);
    await resources.close();
  }

  const closedError = () =>
    state.refusal() ?? new SnakepitError("POOL_CLOSED", `Pool "${name}" is closed`);
  /** destroy(): every queued call fails with POOL_CLOSED, every running one with WORKER_STOPPED. */
  function failEverything(): void {
    dispatcher.rejectAll(closedError());
    supervisor.abortAllCalls(
      (call) =>
        new SnakepitError(
          "WORKER_STOPPED",
          `Pool "${name}" was destroyed while "${call.tool}" ran`,
        ),
    );
  }

  const readyPromise = start();
  readyPromise.catch(() => undefined);
  const signalHandlers = opts.handleSignals ? closeOnSignals(() => self.close(), log) : undefined;

  function newCall(
    tool: string,
    args: Readonly<Record<string, unknown>> | undefined,
    callOptions: ExecuteOptions | undefined,
  ): PendingCall {
    const refusal = state.refusal();
    if (refusal !== undefined) throw refusal;
    return dispatcher.newCall(tool, args, validateExecuteOptions(callOptions));
  }

  const self: Pool = {
    name,
    get state() {
      return state.kind;
    },
    ready({ signal } = {}) {
      return signal === undefined ? readyPromise : untilAborted(readyPromise, signal);
    },
    execute<T>(
      tool: string,
      args?: Readonly<Record<string, unknown>>,
      callOptions?: ExecuteOptions,
    ): Promise<T> {
      if (callOptions?.idempotent === true && opts.retries > 0)
        return executeWithRetries<T>(runner, () => newCall(tool, args, callOptions), tool);
      // The common case without the retry loop's extra promise.
      let call: PendingCall;
      try {
        call = newCall(tool, args, callOptions);
      } catch (err) {
        return rejectLater(err);
      }
      return executeOnce<T>(runner, call);
    },
    executeStream<T>(
      tool: string,
      args?: Readonly<Record<string, unknown>>,
      callOptions?: ExecuteOptions,
    ): AsyncIterable<T> {
      return {
        [Symbol.asyncIterator]: () => streamCall<T>(runner, () => newCall(tool, args, callOptions)),
      };
    },
    stats() {
      const health = supervisor.degraded ? "degraded" : "ok";
      return stats.snapshot(name, state.kind, health, dispatcher.queueSize, workers);
    },
    async recycle(workerId: string): Promise<void> {
      const worker = workers.get(workerId);
      if (worker === undefined)
        throw new SnakepitError(
          "INVALID_ARGUMENTS",
          `Pool "${name}" has no worker "${workerId}"; see stats().workerDetails`,
        );
      await recycler.recycle(worker, "manual");
    },
    async recycleAll(): Promise<void> {
      // Rolling: one worker at a time, so capacity never drops.
      for (const worker of [...workers.values()].filter((w) => w.state.kind === "ready"))
        await recycler.recycle(worker, "manual");
    },
    close({ timeoutMs = 30_000, signal } = {}) {
      closing ??= (async () => {
        if (state.transition({ kind: "closing" })) {
          const gaveUp = await settledWithin(
            readyPromise.catch(() => undefined).then(() => dispatcher.whenDrained()),
            timeoutMs,
            signal,
          );
          if (gaveUp === "aborted") failEverything();
          dispatcher.rejectAll(closedError());
        }
        await shutdown("close", signal?.aborted ? 0 : opts.shutdownGraceMs);
        state.transition({ kind: "closed" });
      })();
      return closing;
    },
    destroy() {
      state.transition({ kind: "closing" });
      failEverything();
      closing ??= (async () => {
        await shutdown("destroy", 0);
        state.transition({ kind: "closed" });
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return self.close();
    },
  };
  registerWorkerProcesses(self, () =>
    [...workers.values()].flatMap((w) =>
      w.state.kind === "ready" && w.process !== undefined ? [w.process] : [],
    ),
  );
  return self;
}
