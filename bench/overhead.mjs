// Per-call overhead of the pool against a raw client of the same transport calling the pool's own
// Python workers directly, on both transports: the same processes on both sides, so only the
// path differs. Workers: the thread profile with 64 slots, so at every client concurrency both
// sides can have the same calls in flight.
// - gRPC: `createGrpcJsWorkerClient` (the fastest raw gRPC client, see transport.mjs) connected to
//   the pool's workers (`stats().workerDetails[].address`).
// - frames: each worker's own client (`workerProcessesOf(pool)` from `@snakepit/pool/internal`,
//   the very `createFramesWorkerClient` the pool calls through; a frames socket is a private
//   socketpair, so nothing else reaches it).
// The difference is the pool's own path (queue, worker selection, deadline/abort wiring, telemetry
// publish, correlation and call ids); the pool's heartbeats run under both sides.
// Raw calls to 2 workers go round-robin over 2 clients (the target's column), and, as a third
// side with no target, to the client with the fewest calls in flight: the pool's own rule among
// busy workers, which keeps the calls one worker's answers start on that worker (one write, not
// two), so that column shows the pool's path without what its worker choice gains over
// round-robin. 100-byte string and 1 MiB Buffer payloads (raw bytes on the wire), concurrency
// 1 / 8 / 64, 1 and 2 workers; each round runs the sides back to back, and a cell's ratio is the
// median of its rounds' ratios. A cell's rounds are spread over `PROCESS_SETS` fresh sets of
// processes (see there).
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { workerProcessesOf } from "@snakepit/pool/internal";
import { createGrpcJsWorkerClient, resolvePythonEnvironment } from "@snakepit/python-bridge";
import { echoAdapter as adapter, closedLoop, median, quick, rate } from "./load.mjs";

const THREADS = 64;

export const payloads = {
  // A round is bounded by calls and by time. Many short rounds for small calls (drift between
  // the two sides of a round stays small); fewer, longer ones for 1 MiB, so each holds enough calls.
  "100 B": { args: { value: "x".repeat(100) }, maxCalls: 3000, maxMs: 150, rounds: 40, size: 100 },
  "1 MiB": {
    args: { value: Buffer.alloc(1024 * 1024, 7) },
    maxCalls: 300,
    maxMs: 500,
    rounds: 11,
    size: 1024 * 1024,
  },
};

/**
 * Two ways raw calls pick one of several clients: `execute(i, args)` round-robin by call number
 * (what a hand-written client does), `least(args)` the client with the fewest calls in flight
 * (the first among equals): the rule the pool follows among busy workers, without the pool.
 */
function pickers(clients) {
  const inFlight = clients.map(() => 0);
  const done = (k) => (result) => {
    inFlight[k]--;
    return result;
  };
  const settled = clients.map((_, k) => done(k));
  return {
    execute: (i, args) => clients[i % clients.length].execute("echo", args),
    least(args) {
      let k = 0;
      for (let j = 1; j < clients.length; j++) if (inFlight[j] < inFlight[k]) k = j;
      inFlight[k]++;
      return clients[k].execute("echo", args).then(settled[k], (err) => {
        inFlight[k]--;
        throw err;
      });
    },
  };
}

/** Raw grpc-js clients to the pool's own workers: the same Python processes, without the pool. */
async function rawGrpcClients(pool) {
  const clients = pool.stats().workerDetails.map((w) => createGrpcJsWorkerClient(w.address));
  return {
    ...pickers(clients),
    async close() {
      for (const c of clients) c.close();
    },
  };
}

/**
 * Raw frames clients to the pool's own workers: each worker's `WorkerProcess.client` (the very
 * `createFramesWorkerClient` the pool calls through), from `@snakepit/pool/internal` — a frames
 * worker's socket is a private socketpair, so nothing else reaches it.
 */
function rawFramesClients(pool) {
  return { ...pickers(workerProcessesOf(pool).map((p) => p.client)), async close() {} };
}

function check(value, size) {
  const length = typeof value === "string" ? value.length : value?.byteLength;
  if (length !== size) throw new Error(`echo returned ${length} instead of ${size} bytes`);
}

/**
 * How many fresh sets of processes (a pool of `n` workers) share a cell's rounds. Where the OS
 * scheduler puts a set of processes lasts their lifetime and moves their throughput by 10 % and
 * more at c=64; both sides of a round call the same processes, so that cancels out of a round's
 * ratio, but not out of the calls/s columns, which the sets average. (Until the pool exposed its
 * workers' clients, the frames raw side called twin processes, and a twin pair's placement
 * alone moved a cell by up to 0.9–1.48 in A/A runs.) A cell's rounds are split over the sets, so
 * more sets cost only their start-up.
 */
export const PROCESS_SETS = 8;

/**
 * Warms both sides up at concurrency `c`, then runs `rounds` rounds, each both sides back to back
 * (which goes first alternates): a round's pool ÷ raw compares two runs under the same machine
 * load, so drift between rounds cancels out of the ratio. Appends to `cell`.
 */
async function runRounds(sides, p, c, cell, { maxCalls, maxMs, rounds }) {
  for (const execute of Object.values(sides))
    await closedLoop((i) => execute(i, p.args), { concurrency: c, maxCalls: c * 4, maxMs });
  const names = Object.keys(sides);
  for (let r = 0; r < rounds; r++) {
    // Which side goes first alternates (with three, each goes first, second and third in turn).
    const order = r % 2 === 0 ? names : [...names].reverse();
    const perSecond = {};
    for (const side of order) {
      const result = await closedLoop((i) => sides[side](i, p.args), {
        concurrency: c,
        maxCalls,
        maxMs,
      });
      perSecond[side] = result.perSecond;
      cell.rates[side].push(result.perSecond);
      cell.cpu[side].push(result.cpuUsPerCall);
    }
    cell.ratios.push(perSecond.pool / perSecond.raw);
    if (perSecond.least !== undefined) cell.leastRatios.push(perSecond.pool / perSecond.least);
  }
}

export async function benchOverhead({
  transports = ["grpc", "frames"],
  workerCounts = [1, 2],
  concurrencies = [1, 8, 64],
  rounds,
  quickMs = 150,
  print = console.log,
} = {}) {
  const python = (await resolvePythonEnvironment()).executable;
  const rows = [];
  for (const transport of transports)
    for (const n of workerCounts) {
      const sets = quick ? 1 : PROCESS_SETS;
      /** Per cell (`payload c`): the rounds' rates, CPU per call and ratios over every set. */
      const cells = new Map();
      for (let set = 0; set < sets; set++) {
        let raw;
        const pool = createPool({
          adapter,
          pythonExecutable: python,
          name: `overhead-${transport}-${n}-${set}`,
          size: n,
          profile: "thread",
          threadsPerWorker: THREADS,
          startMode: "spawn",
          transport,
          registry: false,
        });
        try {
          await pool.ready();
          raw = transport === "grpc" ? await rawGrpcClients(pool) : rawFramesClients(pool);
          const sides = {
            raw: (i, args) => raw.execute(i, args).then((r) => r.value),
            pool: (_i, args) => pool.execute("echo", args),
          };
          // With several workers, also raw calls that pick the worker with the fewest calls.
          if (n > 1) sides.least = (_i, args) => raw.least(args).then((r) => r.value);
          for (const [name, p] of Object.entries(payloads)) {
            for (const execute of Object.values(sides)) check(await execute(0, p.args), p.size);
            for (const c of concurrencies) {
              const key = `${name} ${c}`;
              let cell = cells.get(key);
              if (cell === undefined) {
                cell = {
                  name,
                  c,
                  rates: { raw: [], pool: [], least: [] },
                  cpu: { raw: [], pool: [], least: [] },
                  ratios: [],
                  leastRatios: [],
                };
                cells.set(key, cell);
              }
              await runRounds(sides, p, c, cell, {
                maxCalls: quick ? Math.ceil(p.maxCalls / 10) : p.maxCalls,
                maxMs: quick ? quickMs : p.maxMs,
                rounds: Math.ceil((rounds ?? (quick ? 1 : p.rounds)) / sets),
              });
            }
          }
        } finally {
          await raw?.close();
          await pool.close();
        }
      }
      for (const cell of cells.values()) {
        const row = {
          transport,
          workers: n,
          payload: cell.name,
          concurrency: cell.c,
          raw: median(cell.rates.raw),
          pool: median(cell.rates.pool),
          rawCpu: median(cell.cpu.raw),
          poolCpu: median(cell.cpu.pool),
          ratio: median(cell.ratios),
          least: cell.leastRatios.length > 0 ? median(cell.rates.least) : undefined,
          leastCpu: cell.leastRatios.length > 0 ? median(cell.cpu.least) : undefined,
          leastRatio: cell.leastRatios.length > 0 ? median(cell.leastRatios) : undefined,
        };
        rows.push(row);
        const least =
          row.leastRatio === undefined
            ? ""
            : `; fewest-in-flight raw ${rate(row.least)}/s, pool ÷ it ${row.leastRatio.toFixed(3)}, its CPU/call ${row.leastCpu.toFixed(1)} µs`;
        print(
          `  ${transport}, ${n} worker(s), ${row.payload}, c=${row.concurrency}: raw ${rate(row.raw)}/s, pool ${rate(row.pool)}/s, ratio ${row.ratio.toFixed(3)}; host CPU/call raw ${row.rawCpu.toFixed(1)} µs, pool ${row.poolCpu.toFixed(1)} µs${least}`,
        );
      }
    }
  const met = rows.filter((r) => r.ratio >= 0.9).length;
  const lines = [
    "| transport | workers | payload | concurrency | raw client calls/s | pool calls/s | pool ÷ raw (target ≥ 0.9) | Node CPU µs/call raw | Node CPU µs/call pool | pool ÷ raw fewest-in-flight (no target) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.transport === "grpc" ? "gRPC (grpc-js)" : "frames"} | ${r.workers} | ${r.payload} | ${r.concurrency} | ${rate(r.raw)} | ${rate(r.pool)} | ${r.ratio.toFixed(3)}${r.ratio >= 0.9 ? "" : " ✗"} | ${r.rawCpu.toFixed(1)} | ${r.poolCpu.toFixed(1)} | ${r.leastRatio === undefined ? "—" : `${r.leastRatio.toFixed(3)} (${r.leastCpu.toFixed(1)} µs)`} |`,
    ),
    "",
    ...transports.flatMap((t) => {
      const own = rows.filter((r) => r.transport === t);
      const ok = own.filter((r) => r.ratio >= 0.9).length;
      return [
        `${t === "grpc" ? "gRPC" : "Frames"}: target pool ≥ 0.9 × raw (issue 13) met in ${ok} of ${own.length} cells ${ok === own.length ? "✓" : `✗ (lowest ${Math.min(...own.map((r) => r.ratio)).toFixed(3)})`}.`,
        "",
      ];
    }),
  ];
  const table = lines.join("\n");
  print(table);
  return { table, rows, met: met === rows.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchOverhead();
