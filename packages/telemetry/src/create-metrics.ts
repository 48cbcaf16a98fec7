import { SnakepitError } from "@snakepit/errors";
import { invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";
import { Gauge, type Registry } from "prom-client";
import { CounterMetric } from "./counter-metric.js";
import { GaugeMetric } from "./gauge-metric.js";
import { HistogramMetric } from "./histogram-metric.js";
import type { MetricConfig } from "./metric-base.js";
import { defaultBuckets, type MetricKey, metricDefinitions } from "./metric-names.js";
import { subscribe } from "./publish.js";
import { createWorkerStateTracker, workerStateLabels } from "./worker-state-tracker.js";

/** Histogram buckets, in seconds, by histogram. */
export interface MetricBuckets {
  /** `call_duration_seconds`. Default: 1 ms … 60 s. */
  readonly callDuration?: readonly number[];
  /** `queue_wait_seconds`. Default: 0.1 ms … 30 s. */
  readonly queueWait?: readonly number[];
  /** `worker_start_seconds`. Default: 50 ms … 60 s. */
  readonly workerStart?: readonly number[];
  /** `heartbeat_latency_seconds`. Default: 0.1 ms … 5 s. */
  readonly heartbeatLatency?: readonly number[];
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The prom-client `Registry` to register into. Required: Snakepit never uses the global default registry. */
  readonly registry: Registry;
  /** Prepended to every metric name. Default `"snakepit_"`. */
  readonly prefix?: string;
  /** Histogram buckets in seconds; each omitted histogram keeps its default. */
  readonly buckets?: MetricBuckets;
}

/** Live Prometheus metrics fed by the event catalogue. */
export interface SnakepitMetrics {
  /** The registry the metrics live in. */
  readonly registry: Registry;
  /** The full name (prefix included) of each metric. */
  readonly names: Readonly<Record<MetricKey, string>>;
  /** Unsubscribes from every channel and removes the metrics from the registry. Idempotent. */
  dispose(): void;
}

const bucketKeys = ["callDuration", "queueWait", "workerStart", "heartbeatLatency"] as const;

function checkBuckets(buckets: unknown): void {
  if (buckets === undefined) return;
  if (typeof buckets !== "object" || buckets === null)
    throw invalidOption("buckets", "an object", buckets);
  rejectUnknownKeys(buckets, bucketKeys, "buckets");
  for (const [key, value] of Object.entries(buckets)) {
    if (value === undefined) continue;
    const ok =
      Array.isArray(value) &&
      value.length > 0 &&
      value.every((b, i) => typeof b === "number" && b > 0 && (i === 0 || b > value[i - 1]));
    if (!ok) throw invalidOption(`buckets.${key}`, "a non-empty increasing list of seconds", value);
  }
}

/**
 * Registers Snakepit's Prometheus metrics into `options.registry` and keeps them current by
 * subscribing to the event catalogue, so the pool needs no knowledge of metrics. Metric names are
 * listed in `metric-names.ts` and `docs/telemetry.md`. Registering twice into one registry (same
 * prefix) throws `INVALID_OPTIONS`; call `dispose()` first.
 */
export function createMetrics(options: MetricsOptions): SnakepitMetrics {
  if (typeof options !== "object" || options === null)
    throw invalidOption("options", "an object", options);
  rejectUnknownKeys(options, ["registry", "prefix", "buckets"]);
  const { registry, prefix = "snakepit_", buckets = {} } = options;
  if (
    typeof registry !== "object" ||
    registry === null ||
    typeof registry.registerMetric !== "function"
  )
    throw invalidOption("registry", "a prom-client Registry", registry);
  if (typeof prefix !== "string" || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix))
    throw invalidOption("prefix", "a Prometheus metric name prefix", prefix);
  checkBuckets(options.buckets);

  const names = Object.fromEntries(
    Object.entries(metricDefinitions).map(([key, def]) => [key, `${prefix}${def.name}`]),
  ) as Record<MetricKey, string>;
  const registered: string[] = [];
  const config = (key: MetricKey): MetricConfig => {
    const def = metricDefinitions[key];
    return { name: names[key], help: def.help, labelNames: def.labels, registry };
  };
  const make = <M>(key: MetricKey, build: () => M): M => {
    try {
      const metric = build();
      registered.push(names[key]);
      return metric;
    } catch (err) {
      for (const name of registered) registry.removeSingleMetric(name);
      throw new SnakepitError(
        "INVALID_OPTIONS",
        `Could not register metric \`${names[key]}\` (already registered in this registry? call dispose() first, or use another \`prefix\`)`,
        { cause: err, details: { option: "registry", metric: names[key] } },
      );
    }
  };
  const histogram = (key: MetricKey, bucketKey: (typeof bucketKeys)[number]) =>
    make(
      key,
      () =>
        new HistogramMetric({
          ...config(key),
          buckets: buckets[bucketKey] ?? defaultBuckets[bucketKey],
        }),
    );
  const counter = (key: MetricKey) => make(key, () => new CounterMetric(config(key)));

  const states = createWorkerStateTracker();
  const calls = counter("callsTotal");
  const callDuration = histogram("callDurationSeconds", "callDuration");
  const queueWait = histogram("queueWaitSeconds", "queueWait");
  const queueDepth = make("queueDepth", () => new GaugeMetric(config("queueDepth")));
  const queueTimeouts = counter("queueTimeoutsTotal");
  const queueRejected = counter("queueRejectedTotal");
  make(
    "workers",
    () =>
      new Gauge({
        name: names.workers,
        help: metricDefinitions.workers.help,
        labelNames: [...metricDefinitions.workers.labels],
        registers: [registry],
        // Computed at scrape time from the tracked states: nothing to keep in sync.
        collect() {
          this.reset();
          for (const [pool, counts] of states.counts())
            for (const state of workerStateLabels) this.set({ pool, state }, counts[state]);
        },
      }),
  );
  const workerStart = histogram("workerStartSeconds", "workerStart");
  const exits = counter("workerExitsTotal");
  const crashes = counter("workerCrashesTotal");
  const restarts = counter("workerRestartsTotal");
  const recycles = counter("workerRecyclesTotal");
  const healthFailures = counter("workerHealthCheckFailuresTotal");
  const heartbeatLatency = histogram("heartbeatLatencySeconds", "heartbeatLatency");
  const heartbeatMisses = counter("heartbeatMissesTotal");
  const heartbeatFailures = counter("heartbeatFailuresTotal");
  const orphansFound = counter("orphansFoundTotal");
  const orphansCleaned = counter("orphansCleanedTotal");

  const subscriptions = [
    subscribe("snakepit:call:start", (e) => states.callStarted(e.pool, e.workerId)),
    subscribe("snakepit:call:end", (e) => {
      states.callFinished(e.pool, e.workerId);
      calls.inc(1, e.pool, e.tool, "ok");
      callDuration.observe(e.durationMs / 1000, e.pool, e.tool, "ok");
    }),
    subscribe("snakepit:call:error", (e) => {
      if (e.workerId !== undefined) states.callFinished(e.pool, e.workerId);
      calls.inc(1, e.pool, e.tool, e.code);
      callDuration.observe(e.durationMs / 1000, e.pool, e.tool, "error");
    }),
    subscribe("snakepit:queue:enqueued", (e) => queueDepth.set(e.depth, e.pool)),
    subscribe("snakepit:queue:dequeued", (e) => {
      queueDepth.set(e.depth, e.pool);
      queueWait.observe(e.waitMs / 1000, e.pool);
    }),
    subscribe("snakepit:queue:timeout", (e) => {
      queueDepth.set(e.depth, e.pool);
      queueTimeouts.inc(1, e.pool);
    }),
    subscribe("snakepit:queue:rejected", (e) => {
      queueDepth.set(e.depth, e.pool);
      queueRejected.inc(1, e.pool, e.reason);
    }),
    subscribe("snakepit:worker:spawned", (e) => states.spawned(e.pool, e.workerId)),
    subscribe("snakepit:worker:ready", (e) => {
      states.ready(e.pool, e.workerId);
      workerStart.observe(e.startMs / 1000, e.pool);
    }),
    subscribe("snakepit:worker:exited", (e) => {
      states.exited(e.pool, e.workerId);
      exits.inc(1, e.pool, e.reason);
    }),
    subscribe("snakepit:worker:crashed", (e) => crashes.inc(1, e.pool)),
    subscribe("snakepit:worker:restarted", (e) => restarts.inc(1, e.pool, e.reason)),
    subscribe("snakepit:worker:recycled", (e) => {
      states.stopping(e.pool, e.workerId);
      recycles.inc(1, e.pool, e.reason);
    }),
    subscribe("snakepit:worker:health_check_failed", (e) =>
      healthFailures.inc(1, e.pool, e.reason),
    ),
    subscribe("snakepit:heartbeat:pong_received", (e) =>
      heartbeatLatency.observe(e.latencyMs / 1000, e.pool),
    ),
    subscribe("snakepit:heartbeat:heartbeat_timeout", (e) =>
      heartbeatMisses.inc(1, e.pool, e.cause),
    ),
    subscribe("snakepit:heartbeat:monitor_failure", (e) => {
      states.stopping(e.pool, e.workerId);
      heartbeatFailures.inc(1, e.pool, e.reason);
    }),
    subscribe("snakepit:registry:orphans_found", (e) => orphansFound.inc(e.count)),
    subscribe("snakepit:registry:cleanup_completed", (e) => orphansCleaned.inc(e.killed)),
  ];

  let disposed = false;
  return {
    registry,
    names,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const off of subscriptions) off();
      for (const name of registered) registry.removeSingleMetric(name);
    },
  };
}
