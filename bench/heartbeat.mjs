// Heartbeat overhead: the same call load against a pool with heartbeats on (default options) and
// one with heartbeats off, alternating rounds in one run; prints the throughput ratio (target ≥ 0.99).
// Rounds are bounded by time, not calls: a heartbeat goes out every 2 s per worker, so a round
// must last about that long to hold one (at frames speed 3,000 calls take a fraction of a second,
// and a call-bounded round would mostly measure nothing).
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { echoAdapter as adapter, closedLoop, median, rate } from "./load.mjs";

export async function benchHeartbeat({
  rounds = 7,
  maxMs = 2000,
  concurrency = 8,
  print = console.log,
} = {}) {
  const on = createPool({ adapter, size: 2, name: "hb-on", registry: false });
  const off = createPool({ adapter, size: 2, name: "hb-off", registry: false, heartbeat: false });
  const call = (pool) => () => pool.execute("add", { a: 1, b: 2 });
  try {
    await Promise.all([on.ready(), off.ready()]);
    for (const pool of [on, off])
      await closedLoop(call(pool), { concurrency, maxCalls: 500, maxMs: 500 });
    const rates = { on: [], off: [] };
    const ratios = [];
    for (let i = 0; i < rounds; i++) {
      // Alternate the order so drift (thermal, other load) hits both sides alike.
      const order = i % 2 === 0 ? ["on", "off"] : ["off", "on"];
      for (const which of order) {
        const result = await closedLoop(call(which === "on" ? on : off), {
          concurrency,
          maxCalls: Number.POSITIVE_INFINITY,
          maxMs,
        });
        rates[which].push(result.perSecond);
      }
      ratios.push(rates.on[i] / rates.off[i]);
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
  } finally {
    await Promise.all([on.close(), off.close()]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchHeartbeat();
