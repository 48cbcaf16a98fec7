// Heartbeat overhead: the same call load against a pool with heartbeats on (default options) and
// one with heartbeats off, alternating rounds in one run; prints the throughput ratio (target ≥ 0.99).
// Rounds are bounded by time, not calls: a heartbeat goes out every 2 s per worker, so a round
// must last about that long to hold one (at frames speed 3,000 calls take a fraction of a second,
// and a call-bounded round would mostly measure nothing).
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { echoAdapter as adapter, closedLoop, median, rate } from "./load.mjs";

// 15 pairs, not 7: a pair's placement moves its ratio by several per cent either way, more than
// the heartbeat's own cost (one frame each way per worker every 2 s). A/A runs (both pools with
// heartbeats on) gave 0.970, 1.013 and 0.972 over 7 pairs, 1.023 and 1.026 over 15.
export async function benchHeartbeat({
  rounds = 15,
  maxMs = 2000,
  concurrency = 8,
  print = console.log,
} = {}) {
  const call = (pool) => () => pool.execute("add", { a: 1, b: 2 });
  const rates = { on: [], off: [] };
  const ratios = [];
  // A fresh pair of pools every round, created and measured in alternating order: two pools alive
  // side by side differ by several per cent for reasons of their own (where the scheduler put
  // their processes): an A/A run of two identical pools gave 0.93 with one pair for the whole run.
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ["on", "off"] : ["off", "on"];
    const pools = {};
    for (const which of order)
      pools[which] = createPool({
        adapter,
        size: 2,
        name: `hb-${which}`,
        registry: false,
        ...(which === "off" ? { heartbeat: false } : {}),
      });
    try {
      await Promise.all(Object.values(pools).map((p) => p.ready()));
      for (const which of order)
        await closedLoop(call(pools[which]), { concurrency, maxCalls: 500, maxMs: 300 });
      for (const which of order) {
        const result = await closedLoop(call(pools[which]), {
          concurrency,
          maxCalls: Number.POSITIVE_INFINITY,
          maxMs,
        });
        rates[which].push(result.perSecond);
      }
      ratios.push(rates.on[i] / rates.off[i]);
    } finally {
      await Promise.all(Object.values(pools).map((p) => p.close()));
    }
  }
  const ratio = median(ratios);
  const lines = [
    "| heartbeats | median calls/s (pool of 2, concurrency 8, `add`) |",
    "|---|---|",
    `| on (2000 ms interval, defaults) | ${rate(median(rates.on))} |`,
    `| off | ${rate(median(rates.off))} |`,
    `| ratio on ÷ off, median of per-round ratios (target ≥ 0.99) | ${ratio.toFixed(3)} ${ratio >= 0.99 ? "✓" : "✗"} |`,
  ];
  for (const line of lines) print(line);
  return { table: lines.join("\n"), ratio };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchHeartbeat();
