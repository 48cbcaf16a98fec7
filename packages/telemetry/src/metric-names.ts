/**
 * Every Prometheus metric Snakepit defines, in one place: name (without the configurable
 * prefix, `snakepit_` by default), type, help text and label names. The Grafana dashboard in
 * `docs/grafana-dashboard.json` and `docs/telemetry.md` are built on these names.
 */
export const metricDefinitions = {
  callsTotal: {
    name: "calls_total",
    type: "counter",
    help: "Tool calls that finished, by outcome: `ok` or the SnakepitError code",
    labels: ["pool", "tool", "outcome"],
  },
  callDurationSeconds: {
    name: "call_duration_seconds",
    type: "histogram",
    help: "Time from dispatch to a worker until the call finished, in seconds",
    labels: ["pool", "tool", "outcome"],
  },
  queueWaitSeconds: {
    name: "queue_wait_seconds",
    type: "histogram",
    help: "Time a call waited in the queue for a worker, in seconds",
    labels: ["pool"],
  },
  queueDepth: {
    name: "queue_depth",
    type: "gauge",
    help: "Calls waiting for a worker",
    labels: ["pool"],
  },
  queueTimeoutsTotal: {
    name: "queue_timeouts_total",
    type: "counter",
    help: "Calls that waited longer than the queue timeout for a worker",
    labels: ["pool"],
  },
  queueRejectedTotal: {
    name: "queue_rejected_total",
    type: "counter",
    help: "Calls refused before queueing, by reason (`full`, `closed`)",
    labels: ["pool", "reason"],
  },
  workers: {
    name: "workers",
    type: "gauge",
    help: "Workers by state: `starting`, `idle`, `busy`, `stopping`",
    labels: ["pool", "state"],
  },
  workerStartSeconds: {
    name: "worker_start_seconds",
    type: "histogram",
    help: "Time from spawning a worker until it was ready, in seconds",
    labels: ["pool"],
  },
  workerExitsTotal: {
    name: "worker_exits_total",
    type: "counter",
    help: "Worker processes that exited, by reason (`crashed`, `unhealthy`, `recycled`, `closing`...)",
    labels: ["pool", "reason"],
  },
  workerCrashesTotal: {
    name: "worker_crashes_total",
    type: "counter",
    help: "Worker processes that exited without being asked to",
    labels: ["pool"],
  },
  workerRestartsTotal: {
    name: "worker_restarts_total",
    type: "counter",
    help: "Workers replaced after a crash or a failed heartbeat, by reason",
    labels: ["pool", "reason"],
  },
  workerRecyclesTotal: {
    name: "worker_recycles_total",
    type: "counter",
    help: "Workers recycled on purpose (TTL, max calls, memory...), by reason",
    labels: ["pool", "reason"],
  },
  workerHealthCheckFailuresTotal: {
    name: "worker_health_check_failures_total",
    type: "counter",
    help: "Failed worker health checks, by reason",
    labels: ["pool", "reason"],
  },
  heartbeatLatencySeconds: {
    name: "heartbeat_latency_seconds",
    type: "histogram",
    help: "Heartbeat round-trip time, in seconds",
    labels: ["pool"],
  },
  heartbeatMissesTotal: {
    name: "heartbeat_misses_total",
    type: "counter",
    help: "Heartbeats that got no pong, by cause (`timeout`, `rejected`)",
    labels: ["pool", "cause"],
  },
  heartbeatFailuresTotal: {
    name: "heartbeat_failures_total",
    type: "counter",
    help: "Heartbeat monitors that judged their worker dead, by reason (`timeout`, `max-missed`)",
    labels: ["pool", "reason"],
  },
  orphansFoundTotal: {
    name: "orphans_found_total",
    type: "counter",
    help: "Worker processes of dead hosts found by the registry sweep",
    labels: [],
  },
  orphansCleanedTotal: {
    name: "orphans_cleaned_total",
    type: "counter",
    help: "Orphaned worker processes killed by the registry sweep",
    labels: [],
  },
} as const;

/** The key of a metric in {@link metricDefinitions}. */
export type MetricKey = keyof typeof metricDefinitions;

/** Default histogram buckets, in seconds. */
export const defaultBuckets = {
  /** Tool calls: 1 ms to 60 s. */
  callDuration: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  /** Queue waits: 0.1 ms to 30 s. */
  queueWait: [0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
  /** Worker starts: 50 ms to 60 s. */
  workerStart: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  /** Heartbeat round trips: 0.1 ms to 5 s. */
  heartbeatLatency: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
} as const;
