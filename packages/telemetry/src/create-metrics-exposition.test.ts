// createMetrics keeps its own per-series state; these tests pin that what a registry exposes is
// exactly what prom-client's own Counter/Histogram/Gauge expose when fed the same values (the way
// createMetrics fed them before), for a fixed, varied sequence of events.
import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, type MetricBuckets, type SnakepitMetrics } from "./index.js";
import { publish } from "./internal.js";
import { defaultBuckets, type MetricKey, metricDefinitions } from "./metric-names.js";
import { createWorkerStateTracker, workerStateLabels } from "./worker-state-tracker.js";

let metrics: SnakepitMetrics | undefined;
afterEach(() => metrics?.dispose());

const bucketKeyOf: Partial<Record<MetricKey, keyof MetricBuckets>> = {
  callDurationSeconds: "callDuration",
  queueWaitSeconds: "queueWait",
  workerStartSeconds: "workerStart",
  heartbeatLatencySeconds: "heartbeatLatency",
};

type AnyMetric = Counter | Gauge | Histogram;

/** A registry of this content type (prom-client's typings omit the constructor's argument). */
function newRegistry(contentType: RegistryContentType): Registry {
  const registry = new Registry();
  (registry as Registry<RegistryContentType>).setContentType(contentType);
  return registry;
}
type Publish = (name: string, payload: Record<string, unknown>) => void;

/** prom-client's own metrics under the same names, fed as createMetrics fed them before. */
function reference(registry: Registry, prefix: string, buckets: MetricBuckets): Publish {
  const states = createWorkerStateTracker();
  const m = {} as Record<MetricKey, AnyMetric>;
  for (const [key, def] of Object.entries(metricDefinitions) as [
    MetricKey,
    (typeof metricDefinitions)[MetricKey],
  ][]) {
    const config = {
      name: `${prefix}${def.name}`,
      help: def.help,
      labelNames: [...def.labels] as string[],
      registers: [registry],
    };
    const bucketKey = bucketKeyOf[key];
    if (key === "workers")
      m[key] = new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const [pool, counts] of states.counts())
            for (const state of workerStateLabels) this.set({ pool, state }, counts[state]);
        },
      });
    else if (def.type === "counter") m[key] = new Counter(config);
    else if (def.type === "gauge") m[key] = new Gauge(config);
    else if (bucketKey !== undefined)
      m[key] = new Histogram({
        ...config,
        buckets: [...(buckets[bucketKey] ?? defaultBuckets[bucketKey])],
      });
  }
  const counter = (k: MetricKey) => m[k] as Counter;
  const gauge = (k: MetricKey) => m[k] as Gauge;
  const histogram = (k: MetricKey) => m[k] as Histogram;
  // biome-ignore lint/suspicious/noExplicitAny: payloads of every event, checked by publish() in the test
  return (name, e: any) => {
    switch (name) {
      case "snakepit:call:start":
        return states.callStarted(e.pool, e.workerId);
      case "snakepit:call:end":
        states.callFinished(e.pool, e.workerId);
        counter("callsTotal").inc({ pool: e.pool, tool: e.tool, outcome: "ok" });
        return histogram("callDurationSeconds").observe(
          { pool: e.pool, tool: e.tool, outcome: "ok" },
          e.durationMs / 1000,
        );
      case "snakepit:call:error":
        if (e.workerId !== undefined) states.callFinished(e.pool, e.workerId);
        counter("callsTotal").inc({ pool: e.pool, tool: e.tool, outcome: e.code });
        return histogram("callDurationSeconds").observe(
          { pool: e.pool, tool: e.tool, outcome: "error" },
          e.durationMs / 1000,
        );
      case "snakepit:queue:enqueued":
        return gauge("queueDepth").set({ pool: e.pool }, e.depth);
      case "snakepit:queue:dequeued":
        gauge("queueDepth").set({ pool: e.pool }, e.depth);
        return histogram("queueWaitSeconds").observe({ pool: e.pool }, e.waitMs / 1000);
      case "snakepit:queue:timeout":
        gauge("queueDepth").set({ pool: e.pool }, e.depth);
        return counter("queueTimeoutsTotal").inc({ pool: e.pool });
      case "snakepit:queue:rejected":
        gauge("queueDepth").set({ pool: e.pool }, e.depth);
        return counter("queueRejectedTotal").inc({ pool: e.pool, reason: e.reason });
      case "snakepit:worker:spawned":
        return states.spawned(e.pool, e.workerId);
      case "snakepit:worker:ready":
        states.ready(e.pool, e.workerId);
        return histogram("workerStartSeconds").observe({ pool: e.pool }, e.startMs / 1000);
      case "snakepit:worker:exited":
        states.exited(e.pool, e.workerId);
        return counter("workerExitsTotal").inc({ pool: e.pool, reason: e.reason });
      case "snakepit:worker:crashed":
        return counter("workerCrashesTotal").inc({ pool: e.pool });
      case "snakepit:worker:restarted":
        return counter("workerRestartsTotal").inc({ pool: e.pool, reason: e.reason });
      case "snakepit:worker:recycled":
        states.stopping(e.pool, e.workerId);
        return counter("workerRecyclesTotal").inc({ pool: e.pool, reason: e.reason });
      case "snakepit:worker:health_check_failed":
        return counter("workerHealthCheckFailuresTotal").inc({ pool: e.pool, reason: e.reason });
      case "snakepit:heartbeat:pong_received":
        return histogram("heartbeatLatencySeconds").observe({ pool: e.pool }, e.latencyMs / 1000);
      case "snakepit:heartbeat:heartbeat_timeout":
        return counter("heartbeatMissesTotal").inc({ pool: e.pool, cause: e.cause });
      case "snakepit:heartbeat:monitor_failure":
        states.stopping(e.pool, e.workerId);
        return counter("heartbeatFailuresTotal").inc({ pool: e.pool, reason: e.reason });
      case "snakepit:registry:orphans_found":
        return counter("orphansFoundTotal").inc(e.count);
      case "snakepit:registry:cleanup_completed":
        return counter("orphansCleanedTotal").inc(e.killed);
    }
  };
}

/** A fixed but varied sequence: several pools, tools and outcomes interleaved, values on, between and past bucket bounds. */
function events(): [string, Record<string, unknown>][] {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pools = ["a", "b", "c"];
  const tools = ["add", "mul", 'we"ird\\tool\nname'];
  const ms = [0, 0.05, 0.1, 1, 3, 5, 250, 999.9, 1000, 59_999, 60_000, 61_000, 1e6];
  const out: [string, Record<string, unknown>][] = [];
  for (const pool of pools)
    for (let w = 0; w < 3; w++)
      out.push(["snakepit:worker:spawned", { pool, workerId: `${pool}-${w}`, pid: w }]);
  for (let i = 0; i < 600; i++) {
    const pool = pools[next(3)] as string;
    const call = { pool, tool: tools[next(3)], callId: `c${i}`, correlationId: "k" };
    const workerId = `${pool}-${next(3)}`;
    const t = ms[next(ms.length)] as number;
    const kind = next(20);
    if (kind < 12) {
      out.push(["snakepit:queue:enqueued", { ...call, depth: next(5) }]);
      out.push(["snakepit:queue:dequeued", { ...call, depth: next(5), waitMs: t }]);
      out.push(["snakepit:call:start", { ...call, workerId, waitMs: t }]);
      if (kind < 10) out.push(["snakepit:call:end", { ...call, workerId, durationMs: t }]);
      else
        out.push([
          "snakepit:call:error",
          { ...call, workerId, durationMs: t, code: ["TOOL_ERROR", "CALL_TIMEOUT"][next(2)] },
        ]);
    } else if (kind === 12)
      out.push([
        "snakepit:call:error",
        { ...call, workerId: undefined, durationMs: 0, code: "ABORTED" },
      ]);
    else if (kind === 13)
      out.push(["snakepit:queue:timeout", { ...call, depth: next(5), waitMs: t }]);
    else if (kind === 14)
      out.push([
        "snakepit:queue:rejected",
        { ...call, reason: ["full", "closed"][next(2)], depth: 9 },
      ]);
    else if (kind === 15)
      out.push(["snakepit:worker:ready", { pool, workerId, pid: 1, startMs: t }]);
    else if (kind === 16)
      out.push(["snakepit:heartbeat:pong_received", { pool, workerId, sequence: i, latencyMs: t }]);
    else if (kind === 17) {
      out.push([
        "snakepit:heartbeat:heartbeat_timeout",
        { pool, workerId, sequence: i, missed: 1, cause: "timeout" },
      ]);
      out.push([
        "snakepit:worker:health_check_failed",
        { pool, workerId, reason: "rss", error: "x" },
      ]);
    } else if (kind === 18) {
      out.push([
        "snakepit:worker:recycled",
        {
          pool,
          workerId,
          reason: "max_calls",
          uptimeMs: 1,
          callsServed: 3,
          memoryBytes: undefined,
        },
      ]);
      out.push([
        "snakepit:worker:exited",
        { pool, workerId, pid: 1, exitCode: 0, signal: null, reason: "recycled" },
      ]);
    } else {
      out.push([
        "snakepit:heartbeat:monitor_failure",
        { pool, workerId, reason: "max-missed", missed: 3 },
      ]);
      out.push(["snakepit:worker:crashed", { pool, workerId, pid: 1, exitCode: 1, signal: null }]);
      out.push(["snakepit:worker:restarted", { pool, workerId, reason: "crashed", delayMs: 0 }]);
      out.push(["snakepit:registry:orphans_found", { runIds: ["r"], count: next(3) }]);
      out.push([
        "snakepit:registry:cleanup_completed",
        { killed: next(3), skipped: 0, durationMs: 1 },
      ]);
    }
  }
  return out;
}

describe("createMetrics exposition", () => {
  it.each([
    ["defaults", {}, {}, Registry.PROMETHEUS_CONTENT_TYPE, undefined],
    [
      "a prefix and custom buckets",
      { prefix: "app_" },
      { callDuration: [0.001, 1], queueWait: [0.5] },
      Registry.PROMETHEUS_CONTENT_TYPE,
      undefined,
    ],
    ["default labels", {}, {}, Registry.PROMETHEUS_CONTENT_TYPE, { host: "h1", pool: "fallback" }],
    ["OpenMetrics", {}, {}, Registry.OPENMETRICS_CONTENT_TYPE, undefined],
  ] as const)(
    "is prom-client's own for the same events (%s)",
    async (_, options, buckets, contentType, defaultLabels) => {
      const prefix = "prefix" in options ? options.prefix : "snakepit_";
      const registry = newRegistry(contentType);
      const expected = newRegistry(contentType);
      if (defaultLabels !== undefined) {
        registry.setDefaultLabels(defaultLabels);
        expected.setDefaultLabels(defaultLabels);
      }
      const empty = await registry.metrics();
      metrics = createMetrics({ registry, prefix, buckets });
      const feed = reference(expected, prefix, buckets);
      expect(await registry.metrics()).toBe(await expected.metrics());
      for (const [name, payload] of events()) {
        // biome-ignore lint/suspicious/noExplicitAny: the sequence pairs each event with its own payload
        publish(name as any, payload as any);
        feed(name, payload);
      }
      const text = await registry.metrics();
      expect(text).toBe(await expected.metrics());
      expect(text).toContain(`${prefix}call_duration_seconds_bucket{le="+Inf",`);
      expect(text.endsWith("# EOF\n")).toBe(contentType === Registry.OPENMETRICS_CONTENT_TYPE);
      // Before getMetricsAsJSON: that writes a registry's default labels into prom-client's own live
      // counter and gauge series (ours stay untouched), which a merged registry would then show.
      const merged = async (r: Registry) => Registry.merge([r, newRegistry(contentType)]).metrics();
      expect(await merged(registry)).toBe(await merged(expected));
      expect(await registry.getMetricsAsJSON()).toEqual(await expected.getMetricsAsJSON());
      for (const name of Object.values(metrics.names))
        expect(await registry.getSingleMetricAsString(name)).toBe(
          await expected.getSingleMetricAsString(name),
        );

      registry.resetMetrics();
      expected.resetMetrics();
      expect(await registry.metrics()).toBe(await expected.metrics());
      publish("snakepit:call:end", {
        pool: "a",
        tool: "t",
        callId: "c",
        correlationId: "k",
        workerId: "a-0",
        durationMs: 2,
      });
      feed("snakepit:call:end", { pool: "a", tool: "t", workerId: "a-0", durationMs: 2 });
      expect(await registry.metrics()).toBe(await expected.metrics());

      metrics.dispose();
      expect(await registry.metrics()).toBe(empty);
    },
  );

  it("gives a consistent snapshot to a scrape that races with events", async () => {
    const registry = new Registry();
    metrics = createMetrics({ registry, buckets: { callDuration: [0.001, 0.01] } });
    const end = (i: number) =>
      publish("snakepit:call:end", {
        pool: "p",
        tool: "t",
        callId: `c${i}`,
        correlationId: "k",
        workerId: "w",
        durationMs: i % 20,
      });
    for (let i = 0; i < 100; i++) end(i);
    const scrapes: Promise<string>[] = [];
    for (let i = 100; i < 400; i++) {
      if (i % 50 === 0) scrapes.push(registry.metrics());
      end(i);
      if (i % 7 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const sample = (text: string, series: string) =>
      Number(
        text
          .split("\n")
          .find((line) => line.startsWith(`${series} `))
          ?.slice(series.length + 1),
      );
    const counts: number[] = [];
    for (const text of await Promise.all(scrapes)) {
      const count = sample(
        text,
        'snakepit_call_duration_seconds_count{pool="p",tool="t",outcome="ok"}',
      );
      expect(
        sample(
          text,
          'snakepit_call_duration_seconds_bucket{le="+Inf",pool="p",tool="t",outcome="ok"}',
        ),
      ).toBe(count);
      expect(sample(text, 'snakepit_calls_total{pool="p",tool="t",outcome="ok"}')).toBe(count);
      const le1 = sample(
        text,
        'snakepit_call_duration_seconds_bucket{le="0.001",pool="p",tool="t",outcome="ok"}',
      );
      const le10 = sample(
        text,
        'snakepit_call_duration_seconds_bucket{le="0.01",pool="p",tool="t",outcome="ok"}',
      );
      expect(le1).toBeLessThanOrEqual(le10);
      expect(le10).toBeLessThanOrEqual(count);
      counts.push(count);
    }
    // Each scrape saw the calls published before it started, and none after.
    expect(counts).toEqual([100, 150, 200, 250, 300, 350]);
  });
});
