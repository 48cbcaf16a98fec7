/** Percentiles of recent durations, in milliseconds. */
export interface LatencySummary {
  /** Samples ever recorded. */
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Keeps the last `capacity` durations in a ring and summarises them on demand: recording is
 * O(1) on the hot path, sorting happens only when `stats()` is asked.
 */
export class LatencyRecorder {
  readonly #ring: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity = 1024) {
    this.#ring = new Float64Array(capacity);
  }

  record(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#count++;
  }

  summary(): LatencySummary {
    const n = Math.min(this.#count, this.#ring.length);
    if (n === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    const sorted = this.#ring.slice(0, n).sort();
    const at = (p: number) => sorted[Math.min(n - 1, Math.floor(n * p))] ?? 0;
    return {
      count: this.#count,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: sorted[n - 1] ?? 0,
    };
  }
}
