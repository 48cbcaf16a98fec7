import { SingleValueMetric } from "./single-value-metric.js";

/** A Prometheus counter exposed exactly as prom-client's `Counter` exposes the same increments. */
export class CounterMetric extends SingleValueMetric {
  readonly type = "counter";

  /** Adds `value` (≥ 0, finite; anything else is ignored) to the series of these label values. */
  inc(value: number, a?: string, b?: string, c?: string): void {
    if (!(value >= 0 && value < Number.POSITIVE_INFINITY)) return;
    this.series.get(a, b, c).value += value;
  }
}
