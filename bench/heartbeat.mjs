// Heartbeat overhead: the same call load against a pool with heartbeats on (default options) and
// one with heartbeats off, alternating rounds in one run; prints the throughput ratio (target ≥ 0.99).
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { echoAdapter as adapter } from "./load.mjs";

async function load(pool, calls, concurrency) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < calls) await pool.execute("add", { a: 1, b: 2 });
    }),
  );
  return calls / ((performance.now() - t0) / 1000);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchHeartbeat({
  rounds = 11,
  calls = 3000,
  concurrency = 8,
  print = console.log,
} = {}) {
  const on = createPool({ adapter, size: 2, name: "hb-on", registry: false });
  const off = createPool({ adapter, size: 2, name: "hb-off", registry: false, heartbeat: false });
  try {
    await Promise.all([on.ready(), off.ready()]);
    await load(on, 500, concurrency);
    await load(off, 500, concurrency);
    const rates = { on: [], off: [] };
    for (let i = 0; i < rounds; i++) {
      // Alternate the order so drift (thermal, other load) hits both sides alike.
      const order = i % 2 === 0 ? ["on", "off"] : ["off", "on"];
      for (const which of order)
        rates[which].push(await load(which === "on" ? on : off, calls, concurrency));
    }
    const ratio = median(rates.on) / median(rates.off);
    const lines = [
      "| heartbeats | median calls/s (pool of 2, concurrency 8, `add`) |",
      "|---|---|",
      `| on (2000 ms interval, defaults) | ${median(rates.on).toFixed(0)} |`,
      `| off | ${median(rates.off).toFixed(0)} |`,
      `| ratio on ÷ off (target ≥ 0.99) | ${ratio.toFixed(3)} |`,
    ];
    for (const line of lines) print(line);
    return { table: lines.join("\n"), ratio };
  } finally {
    await Promise.all([on.close(), off.close()]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchHeartbeat();
