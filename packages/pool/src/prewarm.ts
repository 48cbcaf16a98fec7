/**
 * The call count at which to start the successor of a worker with request limit `limit`, so
 * that it is ready as the worker reaches its limit: as many calls before the limit as fit in one
 * worker start (`startMs`), at the recent run time per call (`avgRunMs`). Pure.
 */
export function prewarmAt(limit: number, startMs: number, avgRunMs: number): number {
  const leadCalls = avgRunMs > 0 ? Math.ceil(startMs / avgRunMs) : 1;
  return Math.max(1, limit - leadCalls);
}
