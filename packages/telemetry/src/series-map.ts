/** Label values of one series, by label name (in the metric's label order). */
export type SeriesLabels = Record<string, string>;

/**
 * The series of one metric, found by their label values through nested `Map`s (no string key to
 * build, nothing to sort or validate per event), and listed in the order they were first seen —
 * the order prom-client exposes them in. At most three labels; a metric without labels has its
 * one series from the start, as in prom-client.
 */
export class SeriesMap<S> {
  readonly #labelNames: readonly string[];
  readonly #create: (labels: SeriesLabels) => S;
  #root = new Map<string, unknown>();
  #list: S[] = [];

  constructor(labelNames: readonly string[], create: (labels: SeriesLabels) => S) {
    if (labelNames.length > 3) throw new RangeError("SeriesMap: at most three labels");
    this.#labelNames = labelNames;
    this.#create = create;
    this.reset();
  }

  /** Every series, in the order first seen. */
  get list(): readonly S[] {
    return this.#list;
  }

  /** Forgets every series (a metric without labels keeps a fresh one). */
  reset(): void {
    this.#root = new Map();
    this.#list = [];
    if (this.#labelNames.length === 0) this.#list.push(this.#create({}));
  }

  /** The series of these label values (one per label, in label order), created when new. */
  get(a?: string, b?: string, c?: string): S {
    const depth = this.#labelNames.length;
    if (depth === 0) return this.#list[0] as S;
    let map = this.#root;
    if (depth > 1) map = this.#child(map, a);
    if (depth > 2) map = this.#child(map, b);
    const last = depth === 1 ? a : depth === 2 ? b : c;
    let series = map.get(last as string) as S | undefined;
    if (series === undefined) {
      series = this.#create(this.#labels(a, b, c));
      map.set(last as string, series);
      this.#list.push(series);
    }
    return series;
  }

  #child(map: Map<string, unknown>, key: string | undefined): Map<string, unknown> {
    let child = map.get(key as string) as Map<string, unknown> | undefined;
    if (child === undefined) {
      child = new Map();
      map.set(key as string, child);
    }
    return child;
  }

  #labels(a: string | undefined, b: string | undefined, c: string | undefined): SeriesLabels {
    const names = this.#labelNames;
    const values = [a, b, c];
    const labels: SeriesLabels = {};
    for (let i = 0; i < names.length; i++) labels[names[i] as string] = values[i] as string;
    return labels;
  }
}
