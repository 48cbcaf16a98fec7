// Telemetry at speed, one run: the frames pool with its default options (`createPool({ adapter,
// size })`: frames, process profile, pipelineDepth 32, heartbeats on), 1 and 2 workers, 100-byte
// echo at concurrency 8 and 64, three ways, in alternating rounds:
// - off: no subscriber, the default silent logger, no OpenTelemetry SDK;
// - metrics + pino: Prometheus metrics subscribed (`createMetrics` into a fresh prom-client
//   Registry) and a pino logger at `info` writing to a temp file (a twin pool, created with it);
//   issue 13's target: ≥ 0.8× "off", as the median of the rounds' own ratios;
// - + OpenTelemetry: the same, with an SDK registered (BasicTracerProvider + SimpleSpanProcessor +
//   InMemorySpanExporter), so every call gets a client span and a traceparent sent to Python.
//   Measured separately, with no target: spans cost what the SDK costs.
// Metrics and tracing are process-global: they are switched on only around the rounds that use
// them. Node CPU per call (user + system of this process) is reported beside calls/s.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { createPool } from "@snakepit/pool";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { createMetrics } from "@snakepit/telemetry";
import pino from "pino";
import { Registry } from "prom-client";
import { echoAdapter as adapter, closedLoop, median, quick, rate } from "./load.mjs";

/** Metrics + pino at info must keep this share of the throughput with telemetry off (issue 13). */
export const TARGET_RATIO = 0.8;

const args = { value: "x".repeat(100) };
const MODES = ["off", "metrics + pino", "+ OpenTelemetry"];

export async function benchTelemetryOverhead({
  sizes = [1, 2],
  concurrencies = [8, 64],
  rounds = quick ? 1 : 7,
  maxCalls = quick ? 300 : 5000,
  maxMs = quick ? 150 : 700,
  print = console.log,
} = {}) {
  if (process.env.SNAKEPIT_TRANSPORT !== undefined)
    throw new Error(
      "unset SNAKEPIT_TRANSPORT for the telemetry benchmark: it measures the default",
    );
  const python = (await resolvePythonEnvironment()).executable;
  const dir = mkdtempSync(join(tmpdir(), "snakepit-bench-"));
  const logFile = join(dir, "pool.log");
  const destination = pino.destination({ dest: logFile, sync: false });
  const logger = pino({ level: "info" }, destination);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  // Default options but the interpreter, a name and no registry (none on the call path).
  const base = { adapter, pythonExecutable: python, registry: false };
  const pools = sizes.map((size) => ({
    size,
    off: createPool({ ...base, size, name: `telemetry-off-${size}` }),
    on: createPool({ ...base, size, name: `telemetry-on-${size}`, logger }),
  }));
  let metrics;
  let spans = 0;
  const switchOn = (mode) => {
    if (mode === "off") return;
    metrics = createMetrics({ registry: new Registry() });
    if (mode === "+ OpenTelemetry") trace.setGlobalTracerProvider(provider);
  };
  const switchOff = () => {
    metrics?.dispose();
    metrics = undefined;
    trace.disable();
    spans += exporter.getFinishedSpans().length;
    exporter.reset();
  };
  const rows = [];
  try {
    await Promise.all(pools.flatMap((p) => [p.on.ready(), p.off.ready()]));
    const addresses = pools.flatMap((p) => p.off.stats().workerDetails.map((w) => w.address));
    if (!addresses.every((a) => a?.startsWith("frames:")))
      throw new Error(`the default pool is not on frames (${addresses.join(", ")})`);
    for (const p of pools) {
      const run = async (mode, c, n) => {
        switchOn(mode);
        try {
          const pool = mode === "off" ? p.off : p.on;
          return await closedLoop(() => pool.execute("echo", args), {
            concurrency: c,
            maxCalls: n,
            maxMs,
          });
        } finally {
          switchOff();
        }
      };
      for (const c of concurrencies) {
        for (const mode of MODES) await run(mode, c, 300);
        const results = Object.fromEntries(MODES.map((m) => [m, []]));
        for (let r = 0; r < rounds; r++)
          for (let k = 0; k < MODES.length; k++) {
            const mode = MODES[(k + r) % MODES.length];
            results[mode].push(await run(mode, c, maxCalls));
          }
        const ratio = (mode) =>
          median(results[mode].map((x, r) => x.perSecond / results.off[r].perSecond));
        const row = {
          size: p.size,
          c,
          cells: MODES.map((mode) => ({
            mode,
            rate: median(results[mode].map((x) => x.perSecond)),
            cpu: median(results[mode].map((x) => x.cpuUsPerCall)),
            ratio: ratio(mode),
          })),
        };
        rows.push(row);
        print(
          `  ${p.size} worker(s), c=${c}: ${row.cells.map((x) => `${x.mode} ${rate(x.rate)}/s ${x.cpu.toFixed(1)} µs CPU (${x.ratio.toFixed(2)}×)`).join("; ")}`,
        );
      }
    }
  } finally {
    switchOff();
    await Promise.all(pools.flatMap((p) => [p.on.close(), p.off.close()]));
    destination.flushSync();
  }
  const logLines = readFileSync(logFile, "utf8").split("\n").filter(Boolean).length;
  rmSync(dir, { recursive: true, force: true });
  if (spans === 0) throw new Error("OpenTelemetry rounds exported no spans");
  const target = rows.map((r) => r.cells[1].ratio);
  const met = target.filter((x) => x >= TARGET_RATIO).length;
  const lines = [
    `| workers | concurrency | off: calls/s (Node CPU µs/call) | metrics + pino info: calls/s (µs) | metrics + pino ÷ off (target ≥ ${TARGET_RATIO}) | + OpenTelemetry SDK: calls/s (µs) | + OTel ÷ off (no target) |`,
    "|---|---|---|---|---|---|---|",
    ...rows.map((r) => {
      const [off, on, otel] = r.cells;
      return `| ${r.size} | ${r.c} | ${rate(off.rate)} (${off.cpu.toFixed(1)}) | ${rate(on.rate)} (${on.cpu.toFixed(1)}) | ${on.ratio.toFixed(3)} ${on.ratio >= TARGET_RATIO ? "✓" : "✗"} | ${rate(otel.rate)} (${otel.cpu.toFixed(1)}) | ${otel.ratio.toFixed(3)} |`;
    }),
    "",
    `Target (issue 13), metrics + pino at info ≥ ${TARGET_RATIO}× telemetry off on the default frames pool: met in ${met} of ${rows.length} cells ${met === rows.length ? "✓" : "✗"}. ${spans.toLocaleString("en-US")} spans exported and ${logLines} log lines written over the run.`,
  ];
  const table = lines.join("\n");
  print(table);
  return { table, rows, met: met === rows.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchTelemetryOverhead();
