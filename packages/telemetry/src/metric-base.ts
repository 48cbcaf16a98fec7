import type { Metric, Registry } from "prom-client";

/** What a metric of {@link MetricBase} is built from. */
export interface MetricConfig {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Registered into at construction; throws as prom-client does when the name is taken. */
  readonly registry: Registry;
}

/**
 * A metric that keeps its state in its own structures and hands it to prom-client only when the
 * registry is scraped: the registry needs `name`, `type`, `get()` (optionally `getForPromString()`)
 * and `reset()`, in prom-client's shapes. Updates are plain field writes, not labels objects to
 * validate and hash on every event.
 */
export abstract class MetricBase {
  /** Written by the registry too: an OpenMetrics scrape drops a counter's `_total`, as it does to prom-client's own. */
  name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator = "sum";
  abstract readonly type: "counter" | "gauge" | "histogram";

  constructor(config: MetricConfig) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
  }

  /** Registers into `registry`; call last in a subclass constructor. */
  protected register(registry: Registry): void {
    // The registry only calls the members above; its typings name prom-client's own classes.
    registry.registerMetric(this as unknown as Metric);
  }

  /** Forgets every series (`registry.resetMetrics()`). */
  abstract reset(): void;
}
