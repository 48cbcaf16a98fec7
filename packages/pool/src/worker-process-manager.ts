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
  type WorkerProcess,
} from "@snakepit/python-bridge";
import type { ProcessRegistry } from "@snakepit/registry";
import { publish } from "@snakepit/telemetry";
import type { Logger } from "./logger.js";
import type { PoolHostService } from "./pool-host-service.js";
import type { ResolvedPoolOptions } from "./pool-options.js";
import { forwardWorkerOutput } from "./worker-output.js";

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
  // if it dies. Where fork is impossible (canFork() is false), workers are spawned.
  const forking = opts.startMode === "fork" && canFork();
  let server: ForkServer | undefined;
  let serverStarting: Promise<ForkServer> | undefined;
  function forkServer(): Promise<ForkServer> {
    if (server !== undefined && server.exit === undefined) return Promise.resolve(server);
    serverStarting ??= startForkServer({
      pythonExecutable: m.python,
      adapter: opts.adapter,
      runId: m.runId,
      preload: opts.preload,
      env: opts.env,
      cwd: opts.cwd,
      parentDeathSignal: lifelines.parentDeathSignal,
      startTimeoutMs: opts.startTimeoutMs,
      signal: m.signal,
      onOutput: forwardWorkerOutput(log, `${opts.name}-forkserver`),
    }).then(
      (started) => {
        server = started;
        serverStarting = undefined;
        void started.exited.then((exit) =>
          log.warn(
            { exit },
            "the fork server exited; it is started again on the next worker start",
          ),
        );
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
      await serverStarting?.catch(() => undefined);
      await server?.close();
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
          listen: m.host.directory.socketAddress(`${workerId}.sock`),
          hostAddress: m.host.server.address,
          env: opts.env,
          cwd: opts.cwd,
          concurrency: opts.capacity,
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
