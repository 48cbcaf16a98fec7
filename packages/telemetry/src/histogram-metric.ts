import { MetricBase, type MetricConfig } from "./metric-base.js";
import { type SeriesLabels, SeriesMap } from "./series-map.js";

interface HistogramSeries {
  readonly labels: SeriesLabels;
  /** Observations per bucket, not cumulative: `[i]` counts those in (bounds[i-1], bounds[i]]. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** One sample as prom-client's `Histogram.getForPromString()` gives it. */
interface HistogramSample {
  labels: { le?: number | string };
  sharedLabels: SeriesLabels;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/**
 * A Prometheus histogram exposed exactly as prom-client's `Histogram` exposes the same
 * observations: the same `_bucket` (cumulative, `le` as given, then `+Inf`), `_sum` and `_count`
 * samples, series in the order first seen. An observation is a bucket search and three additions.
 */
export class HistogramMetric extends MetricBase {
  readonly type = "histogram";
  readonly #bounds: readonly number[];
  readonly #series: SeriesMap<HistogramSeries>;

  /** `buckets`: increasing upper bounds, `+Inf` excluded. */
  constructor(config: MetricConfig & { readonly buckets: readonly number[] }) {
    super(config);
    const bounds = [...config.buckets];
    this.#bounds = bounds;
    this.#series = new SeriesMap(config.labelNames, (labels) => ({
      labels,
      buckets: new Float64Array(bounds.length),
      sum: 0,
      count: 0,
    }));
    this.register(config.registry);
  }

  /** Observes `value` in the series of these label values; a non-finite value is ignored. */
  observe(value: number, a?: string, b?: string, c?: string): void {
    if (!Number.isFinite(value)) return;
    const series = this.#series.get(a, b, c);
    const bounds = this.#bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && value > (bounds[i] as number)) i++;
    if (i < n) (series.buckets[i] as number)++;
    series.sum += value;
    series.count++;
  }

  reset(): void {
    this.#series.reset();
  }

  /** The samples with the series' labels apart (`sharedLabels`), as the text exposition wants them. */
  async getForPromString() {
    return this.#snapshot();
  }

  /** The samples with every label in `labels`, as `registry.getMetricsAsJSON()` wants them. */
  async get() {
    const data = this.#snapshot();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...sample }) => ({
        ...sample,
        labels: Object.assign(labels, sharedLabels),
      })),
    };
  }

  // Synchronous, so a scrape sees each series whole: `_count` is the `+Inf` bucket.
  #snapshot() {
    const bucketName = `${this.name}_bucket`;
    const sumName = `${this.name}_sum`;
    const countName = `${this.name}_count`;
    const bounds = this.#bounds;
    const values: HistogramSample[] = [];
    for (const s of this.#series.list) {
      const shared = s.labels;
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += s.buckets[i] as number;
        values.push(sample({ le: bounds[i] }, shared, cumulative, bucketName, null));
      }
      values.push(sample({ le: "+Inf" }, shared, s.count, bucketName, null));
      values.push(sample({}, shared, s.sum, sumName, undefined));
      values.push(sample({}, shared, s.count, countName, undefined));
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }
}

function sample(
  labels: HistogramSample["labels"],
  sharedLabels: SeriesLabels,
  value: number,
  metricName: string,
  exemplar: null | undefined,
): HistogramSample {
  return { labels, sharedLabels, value, metricName, exemplar };
}
