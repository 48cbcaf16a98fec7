// The pool's own dispatch path against pool size, without Python: the dispatcher, the worker
// set and the call lease from @snakepit/pool's build, over in-memory workers whose "RPC"
// answers on the next turn of the event loop. The workers are what the default process profile
// makes (room for `pipelineDepth` 32 quick calls, sequential). Node CPU µs per call with 256
// workers vs 2, at c=1 (a free worker at once), c=128 (half the large pool busy), c=512 (no idle
// worker: calls go into busy workers' windows) and c=2048 (8 calls in each large-pool window; on
// 2 workers the windows are full, 64 calls held: the rest wait, and every completion hands its
// room to the next waiting call). This isolates what used to grow with
// the pool's size (pump() copying and walking every worker twice per completion); the
// real-process version is pool-size.mjs.
import { leaseWorker } from "../packages/pool/dist/call-lease.js";
import { Dispatcher } from "../packages/pool/dist/dispatcher.js";
import { PoolStatsRecorder } from "../packages/pool/dist/pool-stats.js";
import { SessionAffinity } from "../packages/pool/dist/session-affinity.js";
import { WorkerSet } from "../packages/pool/dist/worker-set.js";
import { closedLoop, median, quick } from "./load.mjs";
import { TARGET_RATIO } from "./pool-size.mjs";

const DEPTH = 32;

function inMemoryPool(size) {
  const workers = new WorkerSet("bench");
  for (let i = 0; i < size; i++) {
    // The default process profile: pipelineDepth 32, one call at a time in Python (sequential).
    const w = workers.create(DEPTH, undefined, true, true);
    w.process = {
      pid: i,
      exit: undefined,
      exited: new Promise(() => undefined),
      client: {
        execute: () =>
          new Promise((resolve) => setImmediate(resolve, { value: 1, durationMs: 0.01 })),
      },
    };
    workers.transition(w, { kind: "ready" });
  }
  const dispatcher = new Dispatcher({
    pool: "bench",
    maxQueue: 100_000,
    queueTimeoutMs: 0,
    affinity: "hint",
    workers,
    sessions: new SessionAffinity(),
    refusal: () => undefined,
  });
  const leaseOptions = {
    pool: "bench",
    tracerProvider: undefined,
    timeoutMs: 0,
    cancelGraceMs: 2000,
    stats: new PoolStatsRecorder(),
    queueDepth: () => dispatcher.queueSize,
    release: (w, c) => dispatcher.release(w, c),
    stopStuck: () => undefined,
  };
  return async function execute() {
    const call = dispatcher.newCall("echo", undefined, {});
    const got = dispatcher.acquire(call);
    const lease = leaseWorker(leaseOptions, call, got instanceof Promise ? await got : got);
    const result = await lease.proc.client.execute("echo", undefined, lease.rpc);
    lease.succeed(result.durationMs);
    return result.value;
  };
}

export async function benchDispatchCost({
  sizes = [2, 256],
  concurrencies = [1, 128, 512, 2048],
  rounds = quick ? 3 : 9,
  maxCalls = quick ? 5_000 : 50_000,
} = {}) {
  const pools = sizes.map(inMemoryPool);
  for (const p of pools) await closedLoop(p, { concurrency: 64, maxCalls: 5000, maxMs: 2000 });
  const rows = [];
  for (const c of concurrencies) {
    const cpu = pools.map(() => []);
    for (let r = 0; r < rounds; r++)
      for (const i of r % 2 === 0 ? [0, 1] : [1, 0])
        cpu[i].push(
          (await closedLoop(pools[i], { concurrency: c, maxCalls, maxMs: 5000 })).cpuUsPerCall,
        );
    const [small, large] = cpu.map(median);
    rows.push({ c, small, large, ratio: large / small });
  }
  const table = [
    `| concurrency | pool's own path, µs per call, ${sizes[0]} workers | ${sizes[1]} workers | ${sizes[1]} ÷ ${sizes[0]} (target ≤ ${TARGET_RATIO}) |`,
    "|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.c} | ${r.small.toFixed(2)} | ${r.large.toFixed(2)} | ${r.ratio.toFixed(2)} ${r.ratio > TARGET_RATIO ? "✗" : "✓"} |`,
    ),
  ].join("\n");
  return { rows, table };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await benchDispatchCost()).table);
