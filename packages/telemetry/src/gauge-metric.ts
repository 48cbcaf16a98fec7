import { MetricBase, type MetricConfig } from "./metric-base.js";
import { type SeriesLabels, SeriesMap } from "./series-map.js";

interface GaugeSeries {
  readonly labels: SeriesLabels;
  value: number;
}

/** A Prometheus gauge exposed exactly as prom-client's `Gauge` exposes the same `set` calls. */
export class GaugeMetric extends MetricBase {
  readonly type = "gauge";
  readonly #series: SeriesMap<GaugeSeries>;

  constructor(config: MetricConfig) {
    super(config);
    this.#series = new SeriesMap(config.labelNames, (labels) => ({ labels, value: 0 }));
    this.register(config.registry);
  }

  /** Sets the series of these label values to `value` (a number, as prom-client requires). */
  set(value: number, a?: string, b?: string, c?: string): void {
    if (typeof value !== "number") return;
    this.#series.get(a, b, c).value = value;
  }

  reset(): void {
    this.#series.reset();
  }

  async get() {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.#series.list.map((s) => ({ value: s.value, labels: s.labels })),
      aggregator: this.aggregator,
    };
  }
}
