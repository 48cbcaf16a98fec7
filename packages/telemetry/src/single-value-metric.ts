import { MetricBase, type MetricConfig } from "./metric-base.js";
import { type SeriesLabels, SeriesMap } from "./series-map.js";

interface ValueSeries {
  readonly labels: SeriesLabels;
  value: number;
}

/** A metric with one number per series (a counter or a gauge), exposed as prom-client exposes its own. */
export abstract class SingleValueMetric extends MetricBase {
  protected readonly series: SeriesMap<ValueSeries>;

  constructor(config: MetricConfig) {
    super(config);
    this.series = new SeriesMap(config.labelNames, (labels) => ({ labels, value: 0 }));
    this.register(config.registry);
  }

  reset(): void {
    this.series.reset();
  }

  async get() {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.series.list.map((s) => ({ value: s.value, labels: s.labels })),
      aggregator: this.aggregator,
    };
  }
}
