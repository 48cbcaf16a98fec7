// Per-call overhead of the pool: `pool.execute("echo")` vs the fastest raw client
// (`createGrpcJsWorkerClient`, see transport.mjs) calling the same Python workers directly: the
// raw clients connect to the pool's own workers (`stats().workerDetails[].address`), spawned
// plainly with the thread profile and 64 slots, so at every client concurrency both sides can have
// the same calls in flight on the same processes and the only difference is the pool's own path
// (queue, worker selection, deadline/abort wiring, telemetry publish, correlation and call ids;
// heartbeats on by default run under both). Raw calls to 2 workers go round-robin over 2 clients.
// 100-byte string and 1 MiB Buffer payloads (raw bytes on the wire), concurrency 1 / 8 / 64, 1 and
// 2 workers; each round runs both sides back to back, and a cell's ratio is the median of its
// rounds' ratios.
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { createGrpcJsWorkerClient, resolvePythonEnvironment } from "@snakepit/python-bridge";
import { echoAdapter as adapter, closedLoop, median, quick, rate } from "./load.mjs";

const THREADS = 64;

export const payloads = {
  // A round is bounded by calls and by time. Many short rounds for small calls (drift between
  // the two sides of a round stays small); fewer, longer ones for 1 MiB, so each holds enough calls.
  "100 B": { args: { value: "x".repeat(100) }, maxCalls: 3000, maxMs: 150, rounds: 60, size: 100 },
  "1 MiB": {
    args: { value: Buffer.alloc(1024 * 1024, 7) },
    maxCalls: 300,
    maxMs: 800,
    rounds: 15,
    size: 1024 * 1024,
  },
};

/** Raw grpc-js clients to the pool's own workers: the same Python processes, without the pool. */
function rawClients(pool) {
  const clients = pool.stats().workerDetails.map((w) => createGrpcJsWorkerClient(w.address));
  return {
    execute: (i, args) => clients[i % clients.length].execute("echo", args),
    close() {
      for (const c of clients) c.close();
    },
  };
}

function check(value, size) {
  const length = typeof value === "string" ? value.length : value?.byteLength;
  if (length !== size) throw new Error(`echo returned ${length} instead of ${size} bytes`);
}

export async function benchOverhead({
  workerCounts = [1, 2],
  concurrencies = [1, 8, 64],
  rounds,
  quickMs = 150,
  print = console.log,
} = {}) {
  const python = (await resolvePythonEnvironment()).executable;
  const rows = [];
  for (const n of workerCounts) {
    let raw;
    const pool = createPool({
      adapter,
      pythonExecutable: python,
      name: `overhead${n}`,
      size: n,
      profile: "thread",
      threadsPerWorker: THREADS,
      startMode: "spawn",
      // The raw clients connect to the workers' gRPC sockets (frames workers have none).
      transport: "grpc",
      registry: false,
    });
    try {
      await pool.ready();
      raw = rawClients(pool);
      const sides = {
        raw: (i, args) => raw.execute(i, args).then((r) => r.value),
        pool: (_i, args) => pool.execute("echo", args),
      };
      for (const [name, p] of Object.entries(payloads)) {
        for (const execute of Object.values(sides)) check(await execute(0, p.args), p.size);
        for (const c of concurrencies) {
          const rates = { raw: [], pool: [] };
          // Each round runs both sides back to back: its pool ÷ raw compares two runs under
          // the same machine load, so drift between rounds cancels out of the ratio.
          const ratios = [];
          const cpu = { raw: [], pool: [] };
          const maxCalls = quick ? Math.ceil(p.maxCalls / 10) : p.maxCalls;
          const maxMs = quick ? quickMs : p.maxMs;
          const roundCount = rounds ?? (quick ? 1 : p.rounds);
          // Warm-up at this concurrency, then alternate which side goes first.
          for (const execute of Object.values(sides))
            await closedLoop((i) => execute(i, p.args), {
              concurrency: c,
              maxCalls: c * 4,
              maxMs,
            });
          for (let r = 0; r < roundCount; r++) {
            const order = r % 2 === 0 ? ["raw", "pool"] : ["pool", "raw"];
            for (const side of order) {
              const result = await closedLoop((i) => sides[side](i, p.args), {
                concurrency: c,
                maxCalls,
                maxMs,
              });
              rates[side].push(result.perSecond);
              cpu[side].push(result.cpuUsPerCall);
            }
            ratios.push(rates.pool[r] / rates.raw[r]);
          }
          const row = {
            workers: n,
            payload: name,
            concurrency: c,
            raw: median(rates.raw),
            pool: median(rates.pool),
            rawCpu: median(cpu.raw),
            poolCpu: median(cpu.pool),
          };
          row.ratio = median(ratios);
          rows.push(row);
          print(
            `  ${n} worker(s), ${name}, c=${c}: raw ${rate(row.raw)}/s, pool ${rate(row.pool)}/s, ratio ${row.ratio.toFixed(3)}; host CPU/call raw ${row.rawCpu.toFixed(0)} µs, pool ${row.poolCpu.toFixed(0)} µs`,
          );
        }
      }
    } finally {
      raw?.close();
      await pool.close();
    }
  }
  const met = rows.filter((r) => r.ratio >= 0.9).length;
  const lines = [
    "| workers | payload | concurrency | raw grpc-js calls/s | pool calls/s | pool ÷ raw (target ≥ 0.9) | Node CPU µs/call raw | Node CPU µs/call pool |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.workers} | ${r.payload} | ${r.concurrency} | ${rate(r.raw)} | ${rate(r.pool)} | ${r.ratio.toFixed(3)}${r.ratio >= 0.9 ? "" : " ✗"} | ${r.rawCpu.toFixed(0)} | ${r.poolCpu.toFixed(0)} |`,
    ),
    "",
    `Target pool ≥ 0.9 × raw met in ${met} of ${rows.length} cells${met === rows.length ? "" : `; lowest ${Math.min(...rows.map((r) => r.ratio)).toFixed(3)}`}.`,
  ];
  const table = lines.join("\n");
  print(table);
  return { table, rows, met: met === rows.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchOverhead();
