import type { WorkerProcess } from "@snakepit/python-bridge";
import type { Pool } from "./pool-types.js";

/** What {@link workerProcessesOf} reads of a pool, registered by `createPool`. */
const processesOf = new WeakMap<Pool, () => WorkerProcess[]>();

/** Called by `createPool`: how to list `pool`'s serving worker processes. */
export function registerWorkerProcesses(pool: Pool, list: () => WorkerProcess[]): void {
  processesOf.set(pool, list);
}

/**
 * The processes of `pool`'s workers that are serving now (state `ready`), with their clients.
 * For benchmarks and tests that call a pool's own workers without the pool (the frames
 * transport's socket is a private socketpair: nothing outside the pool can reach it otherwise).
 * Calls made this way are invisible to the pool: it neither counts nor cancels them.
 */
export function workerProcessesOf(pool: Pool): WorkerProcess[] {
  const list = processesOf.get(pool);
  if (list === undefined) throw new TypeError("Expected a pool made by createPool()");
  return list();
}
