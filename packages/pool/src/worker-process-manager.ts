import { SnakepitError } from "@snakepit/errors";
import {
  type KillOutcome,
  killWithEscalation,
  readProcessIdentity,
} from "@snakepit/process-killer";
import {
  canFork,
  type ForkServer,
  type SpawnWorkerOptions,
  spawnWorker,
  startForkServer,
  type WorkerExit,
  type WorkerProcess,
} from "@snakepit/python-bridge";
import type { ProcessRegistry } from "@snakepit/registry";
import { publish } from "@snakepit/telemetry/internal";
import type { Logger } from "./logger.js";
import type { PoolHostService } from "./pool-host-service.js";
import type { ResolvedPoolOptions } from "./resolve-pool-options.js";
import { forwardWorkerLog, forwardWorkerOutput } from "./worker-output.js";

// A fork server that dies sooner than this after its start counts towards the restart backoff.
const QUICK_DEATH_MS = 10_000;

/** What {@link createWorkerProcessManager} needs from the pool. */
export interface WorkerProcessManagerOptions {
  readonly opts: ResolvedPoolOptions;
  readonly python: string;
  readonly runId: string;
  readonly host: PoolHostService;
  readonly registry: ProcessRegistry | undefined;
  readonly log: Logger;
  /** Aborts every start in progress (the pool is closing). */
  readonly signal: AbortSignal;
}

/** Starts and stops the OS processes of a pool's workers, keeping the registry in step. */
export interface WorkerProcessManager {
  /**
   * Records the worker as reserved (durably, before spawning), spawns it, records its pid and
   * start time as soon as the OS gives them, and resolves once it is ready. On failure the
   * record is removed and nothing is left running.
   */
  start(workerId: string): Promise<WorkerProcess>;
  /** Stops the fork server, if one runs (after the workers are stopped). */
  close(): Promise<void>;
  /** Stops a worker's process group with escalation (SIGTERM, `graceMs`, SIGKILL), then removes its record. */
  stop(workerId: string, proc: WorkerProcess, graceMs: number): Promise<KillOutcome | undefined>;
}

/** Creates the {@link WorkerProcessManager} of one pool. */
export function createWorkerProcessManager(m: WorkerProcessManagerOptions): WorkerProcessManager {
  const { opts, registry, log } = m;
  const lifelines = opts.lifelines;

  async function forget(workerId: string): Promise<void> {
    await registry
      ?.remove(workerId)
      .catch((err: unknown) => log.warn({ err, workerId }, "could not remove a registry record"));
  }

  // Fork mode: one fork server per pool (adapter and environment), started on first use and again
  // when it dies (its serving workers keep serving). Where fork is impossible (canFork() is
  // false), workers are spawned.
  const forking = opts.startMode === "fork" && canFork();
  let server: ForkServer | undefined;
  let serverStarting: Promise<ForkServer> | undefined;
  // Fork servers that died within QUICK_DEATH_MS of starting, in a row: backs the restart off.
  let quickDeaths = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  // Every fork server this pool started: a dead one still answers for the workers it forked.
  const servers = new Set<ForkServer>();

  function onServerExit(started: ForkServer, startedAt: number, exit: WorkerExit): void {
    if (m.signal.aborted || server !== started) return;
    quickDeaths = performance.now() - startedAt < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    const delayMs = quickDeaths === 0 ? 0 : Math.min(100 * 2 ** quickDeaths, 30_000);
    log.warn(
      { exit, pid: started.pid, delayMs },
      "the fork server exited; its serving workers keep serving and a new one starts",
    );
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      if (m.signal.aborted || server !== started) return;
      forkServer().catch((err: unknown) =>
        log.warn({ err }, "could not restart the fork server; the next worker start tries again"),
      );
    }, delayMs);
    restartTimer.unref();
  }

  function forkServer(): Promise<ForkServer> {
    if (server !== undefined && server.exit === undefined) return Promise.resolve(server);
    serverStarting ??= startForkServer({
      pythonExecutable: m.python,
      adapter: opts.adapter,
      runId: m.runId,
      preload: opts.preload,
      // Forked workers start with the fork server's environment: clean it, and mark it, here.
      env: { ...opts.env, ...registry?.markerEnv },
      inheritEnv: opts.inheritEnv,
      cwd: opts.cwd,
      parentDeathSignal: lifelines.parentDeathSignal,
      startTimeoutMs: opts.startTimeoutMs,
      signal: m.signal,
      onOutput: forwardWorkerOutput(log, `${opts.name}-forkserver`),
    }).then(
      (started) => {
        server = started;
        servers.add(started);
        serverStarting = undefined;
        const startedAt = performance.now();
        void started.exited.then((exit) => onServerExit(started, startedAt, exit));
        return started;
      },
      (err: unknown) => {
        serverStarting = undefined;
        throw err;
      },
    );
    return serverStarting;
  }

  return {
    async close() {
      clearTimeout(restartTimer);
      await serverStarting?.catch(() => undefined);
      await Promise.all([...servers].map((s) => s.close()));
    },
    async start(workerId) {
      await registry?.reserve(workerId, { poolName: opts.name });
      let activated: Promise<void> = Promise.resolve();
      const startedAt = performance.now();
      try {
        const spawnOptions: SpawnWorkerOptions = {
          pythonExecutable: m.python,
          adapter: opts.adapter,
          workerId,
          runId: m.runId,
          transport: opts.transport,
          maxMessageBytes: opts.maxMessageBytes,
          // The frames transport needs no socket file: the worker's socketpair is all there is.
          ...(opts.transport === "grpc"
            ? { listen: m.host.directory.socketAddress(`${workerId}.sock`) }
            : {}),
          hostAddress: m.host.server.address,
          env: { ...opts.env, ...registry?.markerEnv },
          inheritEnv: opts.inheritEnv, // a forked worker has its fork server's
          cwd: opts.cwd,
          concurrency: opts.concurrency,
          pipeLifeline: lifelines.pipe,
          parentDeathSignal: lifelines.parentDeathSignal,
          hostHeartbeat: lifelines.hostHeartbeat,
          watchdog: lifelines.watchdog,
          shutdownGraceMs: opts.shutdownGraceMs,
          startTimeoutMs: opts.startTimeoutMs,
          signal: m.signal,
          onSpawn: (pid) => {
            publish("snakepit:worker:spawned", () => ({ pool: opts.name, workerId, pid }));
            if (registry === undefined) return;
            const identity = readProcessIdentity(pid);
            if (identity !== undefined)
              activated = registry.activate(workerId, {
                pid,
                pgid: identity.pgid,
                startTime: identity.startTime,
              });
          },
          onOutput: forwardWorkerOutput(log, workerId),
          onLog: forwardWorkerLog(log, workerId),
        };
        const proc = forking
          ? await (await forkServer()).fork(spawnOptions)
          : await spawnWorker(spawnOptions);
        await activated;
        publish("snakepit:worker:ready", () => ({
          pool: opts.name,
          workerId,
          pid: proc.pid,
          startMs: performance.now() - startedAt,
        }));
        return proc;
      } catch (err) {
        await activated.catch(() => undefined);
        await forget(workerId);
        throw SnakepitError.from(err, "WORKER_START_FAILED");
      }
    },

    async stop(workerId, proc, graceMs) {
      let outcome: KillOutcome | undefined;
      try {
        outcome = await killWithEscalation(proc.pid, { graceMs, group: true, exited: proc.exited });
      } catch (err) {
        log.error({ err, workerId, pid: proc.pid }, "could not kill a worker");
      }
      proc.client.close();
      await forget(workerId);
      return outcome;
    },
  };
}
