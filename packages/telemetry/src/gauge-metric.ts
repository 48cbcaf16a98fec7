import { SingleValueMetric } from "./single-value-metric.js";

/** A Prometheus gauge exposed exactly as prom-client's `Gauge` exposes the same `set` calls. */
export class GaugeMetric extends SingleValueMetric {
  readonly type = "gauge";

  /** Sets the series of these label values to `value` (a number, as prom-client requires). */
  set(value: number, a?: string, b?: string, c?: string): void {
    if (typeof value !== "number") return;
    this.series.get(a, b, c).value = value;
  }
}
