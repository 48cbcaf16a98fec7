// Per-call overhead of the pool: `pool.execute("echo")` vs the fastest raw client
// (`createGrpcJsWorkerClient`, see transport.mjs) calling the same kind of Python worker directly.
// Both sides run the same worker: spawned plainly, thread profile with 64 slots (the pool as
// `profile: "thread", threadsPerWorker: 64`, the raw worker with `concurrency: 64`), so that at
// every client concurrency both sides can have the same calls in flight and the only difference
// is the pool's own path (queue, worker selection, deadline/abort wiring, telemetry publish,
// heartbeats on by default). Raw calls to 2 workers go round-robin over 2 clients. 100-byte string
// and 1 MiB Buffer payloads (raw bytes on the wire), concurrency 1 / 8 / 64, 1 and 2 workers;
// rounds alternate raw/pool and each cell is the median of its rounds.
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import {
  createGrpcJsWorkerClient,
  createPrivateDirectory,
  resolvePythonEnvironment,
  spawnWorker,
} from "@snakepit/python-bridge";
import { closedLoop, median, quick, rate } from "./load.mjs";

const adapter = fileURLToPath(
  new URL("../packages/python-bridge/test/fixtures/echo_adapter.py:EchoAdapter", import.meta.url),
);
const THREADS = 64;

export const payloads = {
  "100 B": { args: { value: "x".repeat(100) }, maxCalls: 3000, size: 100 },
  "1 MiB": { args: { value: Buffer.alloc(1024 * 1024, 7) }, maxCalls: 300, size: 1024 * 1024 },
};

async function startRaw(n, python, dir) {
  const workers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnWorker({
        pythonExecutable: python,
        adapter,
        workerId: `raw${i}`,
        runId: "bench-overhead",
        listen: dir.socketAddress(`raw${i}.sock`),
        concurrency: THREADS,
      }),
    ),
  );
  const clients = workers.map((w) => createGrpcJsWorkerClient(w.address));
  return {
    execute: (i, args) => clients[i % clients.length].execute("echo", args),
    async close() {
      for (const c of clients) c.close();
      for (const w of workers) {
        try {
          process.kill(-w.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      for (const w of workers) {
        await w.exited;
        w.client.close();
      }
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
  rounds = quick ? 1 : 11,
  maxMs = quick ? 150 : 300,
  print = console.log,
} = {}) {
  const python = (await resolvePythonEnvironment()).executable;
  const dir = await createPrivateDirectory("bench");
  const rows = [];
  try {
    for (const n of workerCounts) {
      const raw = await startRaw(n, python, dir);
      const pool = createPool({
        adapter,
        pythonExecutable: python,
        name: `overhead${n}`,
        size: n,
        profile: "thread",
        threadsPerWorker: THREADS,
        startMode: "spawn",
        registry: false,
      });
      try {
        await pool.ready();
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
            // Warm-up at this concurrency, then alternate which side goes first.
            for (const execute of Object.values(sides))
              await closedLoop((i) => execute(i, p.args), {
                concurrency: c,
                maxCalls: c * 4,
                maxMs,
              });
            for (let r = 0; r < rounds; r++) {
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
        await pool.close();
        await raw.close();
      }
    }
  } finally {
    await dir.remove();
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
