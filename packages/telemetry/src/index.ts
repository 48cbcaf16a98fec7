// For applications. Building blocks for other @snakepit packages: `@snakepit/telemetry/internal`.
export type { OtlpBootstrapOptions, OtlpHandle } from "./bootstrap-otlp.js";
export { bootstrapOtlp, otlpPackages } from "./bootstrap-otlp.js";
export { currentCorrelationId, withCorrelationId } from "./correlation.js";
export type { MetricBuckets, MetricsOptions, SnakepitMetrics } from "./create-metrics.js";
export { createMetrics } from "./create-metrics.js";
export type { EventName, EventPayloads } from "./event-catalogue.js";
export { eventNames } from "./event-catalogue.js";
export type { MetricKey } from "./metric-names.js";
export { defaultBuckets, metricDefinitions } from "./metric-names.js";
export { subscribe } from "./publish.js";
export type { MetricsServer, ServeMetricsOptions } from "./serve-metrics.js";
export { serveMetrics } from "./serve-metrics.js";
export type { WorkerStateLabel } from "./worker-state-tracker.js";
