// The host's cost per call against the pool's size: Node CPU µs per small call with 256 workers
// vs 2 workers, at the same client concurrency, on the default transport (frames) and profile
// (process, pipelineDepth 32: a worker holds up to 32 quick calls). c=1 finds a free worker at
// once; at c=128, 512 and 2048 the large pool has a call on as many workers as there are cores and
// packs the rest into busy workers' windows (up to 32 quick calls each: about 4, 16 and 64
// workers busy, the rest idle), while on 2 workers the windows are full (64 calls held) and the
// rest wait in the queue: every completion hands its room to the next waiting call. Workers start in fork
// mode (256 spawned Pythons would take minutes on a small machine), heartbeats and health checks
// are off (they cost per worker per second, not per call), 100-byte echo. Both pools live
// side by side and rounds alternate between them, so load drift hits both; medians.
import { createPool } from "@snakepit/pool";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { echoAdapter as adapter, closedLoop, median, quick, rate } from "./load.mjs";

/** Node CPU per call on 256 workers over that on 2 must stay within this (issue 13). */
export const TARGET_RATIO = 1.2;

export async function benchPoolSize({
  sizes = quick ? [2, 32] : [2, 256],
  concurrencies = quick ? [1, 64, 256] : [1, 128, 512, 2048],
  rounds = quick ? 2 : 7,
  maxCalls = quick ? 300 : 3000,
  maxMs = quick ? 300 : 1500,
  print = console.log,
} = {}) {
  const python = (await resolvePythonEnvironment()).executable;
  const pools = sizes.map((size) =>
    createPool({
      adapter,
      pythonExecutable: python,
      name: `size${size}`,
      size,
      startMode: "fork",
      heartbeat: false,
      lifelines: { hostHeartbeat: false },
      // Per-worker background work (memory samples, health checks) off: it costs per worker per
      // second, not per call, and would be charged to the calls of the larger pool.
      recycle: { healthCheckIntervalMs: 0, memorySampleIntervalMs: 3_600_000 },
      registry: false,
      maxQueue: 100_000,
      startTimeoutMs: 120_000,
    }),
  );
  const args = { value: "x".repeat(100) };
  // A failed call (a worker lost under heavy machine load) is counted, not fatal.
  let failures = 0;
  const call = (p) => p.execute("echo", args).catch(() => failures++);
  const rows = [];
  try {
    await Promise.all(pools.map((p) => p.ready()));
    const address = pools[0].stats().workerDetails[0]?.address ?? "";
    if (!address.startsWith("frames:"))
      throw new Error(
        `the pools are not on frames (worker address ${address}): unset SNAKEPIT_TRANSPORT`,
      );
    for (const p of pools) await Promise.all(Array.from({ length: 64 }, () => call(p)));
    for (const c of concurrencies) {
      const samples = pools.map(() => ({ cpu: [], rate: [] }));
      for (let r = 0; r < rounds; r++) {
        // Alternate which pool goes first, so neither always runs on a warmer machine.
        const order =
          r % 2 === 0 ? pools.map((_, i) => i) : pools.map((_, i) => pools.length - 1 - i);
        for (const i of order) {
          const { cpuUsPerCall, perSecond } = await closedLoop(() => call(pools[i]), {
            concurrency: c,
            // At least 3 calls per lane, so the lanes' start and drain are a small part of a round.
            maxCalls: Math.max(maxCalls, 3 * c),
            maxMs,
          });
          samples[i].cpu.push(cpuUsPerCall);
          samples[i].rate.push(perSecond);
        }
      }
      const cpu = samples.map((s) => median(s.cpu));
      const ratio = cpu[cpu.length - 1] / cpu[0];
      const row = {
        c,
        cells: sizes.map((size, i) => ({
          size,
          cpuUs: cpu[i],
          perSecond: median(samples[i].rate),
        })),
        ratio,
      };
      rows.push(row);
      print(
        `c=${c}: ${row.cells.map((x) => `${x.size} workers ${x.cpuUs.toFixed(1)} µs/call (${rate(x.perSecond)}/s)`).join(", ")}; ratio ${ratio.toFixed(2)}`,
      );
    }
  } finally {
    await Promise.all(pools.map((p) => p.destroy()));
  }
  const [small, large] = [sizes[0], sizes[sizes.length - 1]];
  const table = [
    `| concurrency | Node CPU per call, ${small} workers | ${large} workers | ${large} ÷ ${small} (target ≤ ${TARGET_RATIO}) | calls/s, ${small} workers | ${large} workers |`,
    "|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.c} | ${r.cells[0].cpuUs.toFixed(1)} µs | ${r.cells[r.cells.length - 1].cpuUs.toFixed(1)} µs | ${r.ratio.toFixed(2)} ${r.ratio > TARGET_RATIO ? "✗" : "✓"} | ${rate(r.cells[0].perSecond)} | ${rate(r.cells[r.cells.length - 1].perSecond)} |`,
    ),
    "",
    `Target (issue 13), Node CPU per call with ${large} workers ≤ ${TARGET_RATIO}× that with ${small}: met at ${rows.filter((r) => r.ratio <= TARGET_RATIO).length} of ${rows.length} concurrencies${failures > 0 ? `; ${failures} calls failed (counted, not fatal)` : ""}.`,
  ].join("\n");
  if (failures > 0) print(`${failures} calls failed`);
  return { rows, table, failures };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { table } = await benchPoolSize();
  console.log(`\n${table}`);
}
