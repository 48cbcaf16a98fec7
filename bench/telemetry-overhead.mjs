// Telemetry fully on vs off, the same call load, one run: two pools of 2 plainly spawned workers
// (process profile, heartbeats on), 100-byte echo at concurrency 8. "On" rounds run against a pool
// with a pino logger at info writing to a temp file, with Prometheus metrics subscribed
// (createMetrics into a fresh prom-client Registry) and an OpenTelemetry SDK registered
// (BasicTracerProvider + SimpleSpanProcessor + InMemorySpanExporter), so every call gets a client
// span and a traceparent sent to Python; metrics and tracing are global, so they are switched on
// only for the "on" rounds and off again for the "off" rounds against a pool with the default
// silent logger. Rounds alternate; medians.
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
import { createMetrics } from "@snakepit/telemetry";
import pino from "pino";
import { Registry } from "prom-client";
import { echoAdapter as adapter, closedLoop, median, quick, rate } from "./load.mjs";

const args = { value: "x".repeat(100) };

export async function benchTelemetryOverhead({
  rounds = quick ? 2 : 7,
  maxCalls = quick ? 300 : 3000,
  maxMs = quick ? 200 : 1500,
  concurrency = 8,
  print = console.log,
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), "snakepit-bench-"));
  const logFile = join(dir, "pool.log");
  const destination = pino.destination({ dest: logFile, sync: false });
  const logger = pino({ level: "info" }, destination);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const base = { adapter, size: 2, registry: false, startMode: "spawn" };
  const on = createPool({ ...base, name: "telemetry-on", logger });
  const off = createPool({ ...base, name: "telemetry-off" });
  let metrics;
  const switchOn = () => {
    metrics = createMetrics({ registry: new Registry() });
    trace.setGlobalTracerProvider(provider);
  };
  const switchOff = () => {
    metrics?.dispose();
    metrics = undefined;
    trace.disable();
  };
  const rates = { on: [], off: [] };
  let spans = 0;
  try {
    await Promise.all([on.ready(), off.ready()]);
    const run = async (which, n) => {
      if (which === "on") switchOn();
      try {
        const pool = which === "on" ? on : off;
        const result = await closedLoop(() => pool.execute("echo", args), {
          concurrency,
          maxCalls: n,
          maxMs,
        });
        return result.perSecond;
      } finally {
        if (which === "on") {
          spans += exporter.getFinishedSpans().length;
          exporter.reset();
          switchOff();
        }
      }
    };
    await run("on", 300);
    await run("off", 300);
    spans = 0;
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 === 0 ? ["on", "off"] : ["off", "on"]) {
        rates[which].push(await run(which, maxCalls));
      }
    }
  } finally {
    switchOff();
    await Promise.all([on.close(), off.close()]);
    destination.flushSync();
  }
  const logLines = readFileSync(logFile, "utf8").split("\n").filter(Boolean).length;
  rmSync(dir, { recursive: true, force: true });
  if (spans === 0) throw new Error("telemetry-on rounds exported no spans");
  const ratio = median(rates.on) / median(rates.off);
  const lines = [
    "| telemetry | median calls/s (pool of 2, concurrency 8, 100-byte echo) |",
    "|---|---|",
    `| on: metrics + pino info to a file + OTel SDK (${spans.toLocaleString("en-US")} spans exported, ${logLines} log lines) | ${rate(median(rates.on))} |`,
    `| off (no subscriber, silent logger, no SDK) | ${rate(median(rates.off))} |`,
    `| ratio on ÷ off | ${ratio.toFixed(3)} |`,
  ];
  const table = lines.join("\n");
  print(table);
  return { table, ratio };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchTelemetryOverhead();
