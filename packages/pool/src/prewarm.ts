/** Start the successor this many worker-start times ahead of the limit (a margin for noise). */
export const PREWARM_MARGIN = 1.5;

/** What {@link shouldPrewarm} weighs, for one worker. */
export interface PrewarmFacts {
  /** Calls handed to the worker so far. */
  readonly dispatched: number;
  /** Its request limit (`maxRequests` plus its jitter). */
  readonly limit: number;
  /** Milliseconds since it became ready. */
  readonly uptimeMs: number;
  /** How long a worker start takes now (the last one), in milliseconds. */
  readonly startMs: number;
}

/**
 * Should the successor of a worker with a request limit start now, so that it is ready when
 * the worker reaches its limit? Yes once the calls the worker will get during one worker start
 * (at its own rate so far, with a {@link PREWARM_MARGIN}) reach the limit. The rate is counted
 * over at least one start time, so a burst of first calls cannot make it look infinite; it is
 * the worker's rate of calls, not the run time of one call, so short calls arriving slowly do
 * not start a successor at the first call. Pure.
 */
export function shouldPrewarm(f: PrewarmFacts): boolean {
  return f.dispatched + prewarmLeadCalls(f) >= f.limit;
}

/** The calls the worker is expected to get during one worker start (see {@link shouldPrewarm}). */
export function prewarmLeadCalls(f: Omit<PrewarmFacts, "limit">): number {
  const callsPerMs = f.dispatched / Math.max(f.uptimeMs, f.startMs, 1);
  return Math.ceil(PREWARM_MARGIN * f.startMs * callsPerMs);
}
