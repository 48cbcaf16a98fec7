import type { RecyclePolicy } from "./recycle-policy.js";

/**
 * Picks one worker's request limit, uniformly in
 * [`maxRequests`, `maxRequests + maxRequestsJitter`] (gunicorn style). Call it once when the
 * worker starts and keep the result in its {@link WorkerFacts.maxRequests}: re-drawing on
 * every check would make the limit a moving target. `random` returns a number in [0, 1);
 * default `Math.random`. Returns `undefined` when the policy has no `maxRequests`.
 */
export function resolveMaxRequests(
  policy: Pick<RecyclePolicy, "maxRequests" | "maxRequestsJitter">,
  random: () => number = Math.random,
): number | undefined {
  if (policy.maxRequests === undefined) return undefined;
  const jitter = policy.maxRequestsJitter ?? 0;
  const r = Math.min(Math.max(random(), 0), 0.999_999_999);
  return policy.maxRequests + Math.floor(r * (jitter + 1));
}

/**
 * A deterministic [0, 1) number from a worker id (FNV-1a), so a worker whose caller did not
 * fix a limit still gets one that is its own and stays the same for its whole life.
 */
export function workerRandom(workerId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < workerId.length; i++) {
    hash ^= workerId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}
