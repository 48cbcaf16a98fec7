import { MetricBase, type MetricConfig } from "./metric-base.js";
import { type SeriesLabels, SeriesMap } from "./series-map.js";

interface CounterSeries {
  readonly labels: SeriesLabels;
  value: number;
}

/** A Prometheus counter exposed exactly as prom-client's `Counter` exposes the same increments. */
export class CounterMetric extends MetricBase {
  readonly type = "counter";
  readonly #series: SeriesMap<CounterSeries>;

  constructor(config: MetricConfig) {
    super(config);
    this.#series = new SeriesMap(config.labelNames, (labels) => ({ labels, value: 0 }));
    this.register(config.registry);
  }

  /** Adds `value` (≥ 0, finite; anything else is ignored) to the series of these label values. */
  inc(value: number, a?: string, b?: string, c?: string): void {
    if (!(value >= 0 && value < Number.POSITIVE_INFINITY)) return;
    this.#series.get(a, b, c).value += value;
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
