import { SnakepitError } from "@snakepit/errors";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { removeStaleDirectories } from "@snakepit/python-bridge/internal";
import { createProcessRegistry, type ProcessRegistry } from "@snakepit/registry";
import { generateRunId } from "@snakepit/registry/internal";
import { publish } from "@snakepit/telemetry/internal";
import type { Logger } from "./logger.js";
import { type PoolHostService, startPoolHostService } from "./pool-host-service.js";
import type { HostTool } from "./pool-types.js";
import type { ResolvedPoolOptions } from "./resolve-pool-options.js";
import type { SessionStore } from "./session-store.js";
import { createWorkerProcessManager, type WorkerProcessManager } from "./worker-process-manager.js";

/** What {@link PoolResources} needs. */
export interface PoolResourcesOptions {
  readonly opts: ResolvedPoolOptions;
  readonly log: Logger;
  readonly sessions: SessionStore;
  /** Close `sessions` with the pool (true when the pool created the store). */
  readonly ownsSessions: boolean;
  readonly hostTools: Readonly<Record<string, HostTool>>;
  /** True while the pool knows this worker id (for the host service). */
  readonly knowsWorker: (workerId: string) => boolean;
  /** Aborts every start in progress (the pool is closing). */
  readonly signal: AbortSignal;
}

/**
 * What a pool holds besides its workers, opened in order at start and closed together: the
 * Python environment, the process registry (and the sweep of dead hosts' orphans), the stale
 * socket directories of dead hosts, the host service, and the worker process manager.
 */
export class PoolResources {
  readonly #o: PoolResourcesOptions;
  #registry: ProcessRegistry | undefined;
  #host: PoolHostService | undefined;
  #manager: WorkerProcessManager | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PoolResourcesOptions) {
    this.#o = options;
  }

  /** The process manager; only after {@link open} resolved. */
  get manager(): WorkerProcessManager {
    if (this.#manager === undefined)
      throw new SnakepitError("INTERNAL", "The pool's resources are not open");
    return this.#manager;
  }

  /** The manager if open (for stopping workers while closing). */
  get openManager(): WorkerProcessManager | undefined {
    return this.#manager;
  }

  /** Opens everything, in order. On failure, what was opened stays for {@link close}. */
  async open(): Promise<void> {
    const { opts, log, signal } = this.#o;
    const python = (
      await resolvePythonEnvironment({
        pythonExecutable: opts.pythonExecutable,
        signal,
        onProgress: (line) => log.info({}, line),
      })
    ).executable;
    if (opts.registry !== undefined) {
      this.#registry = await createProcessRegistry(
        opts.registry.dataDir === undefined ? {} : { dataDir: opts.registry.dataDir },
      );
      if (opts.registry.sweepOnStart) await this.#sweep(this.#registry);
    }
    // Socket directories of hosts that died without cleaning up (SIGKILL): theirs, not ours.
    // Never throws: a directory it cannot remove is logged, and the pool starts anyway.
    await removeStaleDirectories({
      onError: (path, err) => log.warn({ path, err }, "could not remove a stale socket directory"),
    });
    // A misconfigured session store (wrong password, not Redis) fails here, not at the first call.
    await this.#o.sessions.ready?.({ signal: this.#o.signal });
    const runId = this.#registry?.runId ?? generateRunId();
    this.#host = await startPoolHostService({
      sessions: this.#o.sessions,
      hostTools: this.#o.hostTools,
      knowsWorker: this.#o.knowsWorker,
      label: runId,
    });
    this.#manager = createWorkerProcessManager({
      opts,
      python,
      runId,
      host: this.#host,
      registry: this.#registry,
      log,
      signal,
    });
  }

  /** Closes what was opened, in reverse order (after the workers are stopped). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#manager?.close();
      await this.#host?.close();
      await this.#registry?.close();
      if (this.#o.ownsSessions) this.#o.sessions.close();
    })();
    return this.#closing;
  }

  async #sweep(registry: ProcessRegistry): Promise<void> {
    const started = performance.now();
    const report = await registry.sweepOrphans({ signal: this.#o.signal });
    if (report.orphansFound.length > 0) {
      publish("snakepit:registry:orphans_found", () => ({
        runIds: [...new Set(report.orphansFound.map((o) => o.runId))],
        count: report.orphansFound.length,
      }));
      this.#o.log.warn(
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
}
