import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createLifecycleScheduler,
  type RecyclePolicy,
  resolveMaxRequests,
} from "@snakepit/lifecycle";

// A stand-in for a Python worker whose tool leaks: each call keeps 20 MiB more.
const LEAKY_WORKER = `
  const held = [];
  process.stdin.on("data", () => {
    held.push(Buffer.alloc(20 * 1024 * 1024, 1));
    process.stdout.write("done\\n");
  });`;

interface Worker {
  id: string;
  process: ChildProcess;
  startedAt: number;
  calls: number;
  maxRequests: number | undefined; // this worker's own limit, fixed at its start
  busy: Promise<unknown>; // the call in flight, if any
  stopping?: Promise<void>;
}

/** Serves `calls` calls through one leaky worker slot, recycling it by memory; returns why. */
export async function serveWithRecycling(calls: number): Promise<string[]> {
  const policy: RecyclePolicy = {
    maxRssBytes: 150 * 1024 * 1024,
    maxRequests: 1000,
    maxRequestsJitter: 100,
    ttlMs: 60 * 60 * 1000,
  };
  const workers = new Map<string, Worker>(); // the authoritative table
  const recycles: string[] = [];
  let serial = 0;

  const startWorker = (): Worker => {
    const worker: Worker = {
      id: `worker-${++serial}`,
      process: spawn(process.execPath, ["-e", LEAKY_WORKER], {
        stdio: ["pipe", "pipe", "inherit"],
      }),
      startedAt: Date.now(),
      calls: 0,
      maxRequests: resolveMaxRequests(policy),
      busy: Promise.resolve(),
    };
    workers.set(worker.id, worker);
    return worker;
  };
  // Drain, then stop: the call in flight finishes first.
  const stopWorker = (worker: Worker): Promise<void> => {
    worker.stopping ??= worker.busy.then(async () => {
      const exited = once(worker.process, "exit");
      worker.process.kill();
      await exited;
      workers.delete(worker.id);
    });
    return worker.stopping;
  };

  let current = startWorker();
  const scheduler = createLifecycleScheduler({
    policy,
    intervalMs: 100, // sample memory often for the demo (default 5000 ms)
    checkIntervalMs: 100,
    list: () =>
      [...workers.values()].map((w) => ({
        workerId: w.id,
        pid: w.process.pid,
        startedAt: w.startedAt,
        callsServed: w.calls,
        maxRequests: w.maxRequests,
      })),
    onRecycle: (workerId, decision) => {
      const old = workers.get(workerId);
      if (old === undefined) return;
      recycles.push(`${workerId}: ${decision.reason} (${decision.detail})`);
      current = startWorker(); // the replacement takes the next call...
      void stopWorker(old); // ...while the old one finishes its call, then stops
    },
  });
  scheduler.start();

  try {
    for (let i = 0; i < calls; i++) {
      const worker = current;
      worker.busy = once(worker.process.stdout ?? worker.process, "data");
      worker.process.stdin?.write("call\n");
      await worker.busy;
      worker.calls += 1;
      await sleep(150);
    }
  } finally {
    await scheduler.stop();
    await Promise.all([...workers.values()].map(stopWorker));
  }
  return recycles;
}
