// `node bench/telemetry.mjs` (after `pnpm turbo run build --filter=@snakepit/telemetry`):
// the cost of one catalogue event, with no subscriber (target < 1 µs), with one subscriber, and
// with the Prometheus metrics subscribed. Medians of 7 rounds, measured in one run.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { createMetrics, subscribe } from "../packages/telemetry/dist/index.js";
import { publish } from "../packages/telemetry/dist/internal.js";

// prom-client is the telemetry package's dependency, not the bench's: resolve it from there.
const { Registry } = createRequire(new URL("../packages/telemetry/package.json", import.meta.url))(
  "prom-client",
);

const payload = {
  pool: "bench",
  tool: "echo",
  callId: "c",
  correlationId: "k",
  workerId: "w",
  durationMs: 1.5,
};

/** Nanoseconds per publish, median of `rounds` rounds of `n` calls each. */
function nsPerPublish(n, rounds = 7) {
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) publish("snakepit:call:end", payload);
    samples.push(Number(process.hrtime.bigint() - start) / n);
  }
  return samples.sort((a, b) => a - b)[Math.floor(rounds / 2)];
}

/** Same, with a lazy payload (a closure built per call, as the pool does). */
function nsPerLazyPublish(n, rounds = 7) {
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) publish("snakepit:call:end", () => ({ ...payload, durationMs: i }));
    samples.push(Number(process.hrtime.bigint() - start) / n);
  }
  return samples.sort((a, b) => a - b)[Math.floor(rounds / 2)];
}

export function benchTelemetry({ n = 1_000_000 } = {}) {
  nsPerPublish(n / 10); // warm up
  const rows = [];
  rows.push(["no subscriber", nsPerPublish(n)]);
  rows.push(["no subscriber, lazy payload", nsPerLazyPublish(n)]);
  const off = subscribe("snakepit:call:end", () => {});
  rows.push(["one empty subscriber", nsPerPublish(n / 10)]);
  off();
  const metrics = createMetrics({ registry: new Registry() });
  rows.push(["Prometheus metrics subscribed", nsPerPublish(n / 10)]);
  metrics.dispose();
  const table = [
    "| case | ns per publish |",
    "| --- | ---: |",
    ...rows.map(([name, ns]) => `| ${name} | ${ns.toFixed(1)} |`),
  ].join("\n");
  const idle = rows[0][1];
  return { table, rows, idleNs: idle, ok: idle < 1000 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table, idleNs, ok } = benchTelemetry();
  console.log(table);
  console.log(
    `\nper-event cost with no subscriber: ${idleNs.toFixed(1)} ns (target < 1000 ns): ${ok ? "OK" : "OVER TARGET"}`,
  );
}
