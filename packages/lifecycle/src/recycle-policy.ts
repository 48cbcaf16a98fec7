import { expectInteger, invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";

/**
 * What the caller's authoritative worker table says about one worker, read fresh for every
 * decision (never from counters kept elsewhere, which drift: CPython gh-115634).
 */
export interface WorkerFacts {
  /** The worker's id in the caller's table. */
  readonly workerId: string;
  /** OS pid of the worker process, used to sample its memory when no `sample` is given. */
  readonly pid?: number;
  /** When the worker became ready, epoch milliseconds. */
  readonly startedAt: number;
  /**
   * Calls the worker has served. The caller counts only real calls: health pings and
   * heartbeats are never requests (gunicorn #2602).
   */
  readonly callsServed: number;
  /**
   * This worker's own request limit, fixed once at its start with {@link resolveMaxRequests}.
   * When absent, a limit is derived from `workerId` (stable for the worker's life).
   */
  readonly maxRequests?: number;
  /** Last memory sample of the worker and its children, bytes. */
  readonly memoryBytes?: number;
  /** When `memoryBytes` was sampled, epoch milliseconds. Samples older than `startedAt` are ignored. */
  readonly memorySampledAt?: number;
  /** Result of the last health check, if any. */
  readonly healthy?: boolean;
  /** Health checks failed in a row; defaults to 1 when `healthy` is false, else 0. */
  readonly consecutiveHealthFailures?: number;
}

/** When to recycle a worker. Every field is optional; an absent field never recycles. */
export interface RecyclePolicy {
  /** Recycle a worker this many milliseconds after `startedAt`, busy or idle. Default: never. */
  readonly ttlMs?: number;
  /** Recycle after this many served calls. Default: never. */
  readonly maxRequests?: number;
  /**
   * Adds a per-worker random 0..`maxRequestsJitter` calls to `maxRequests` so workers started
   * together do not all recycle together (gunicorn `max_requests_jitter`). Default `0` calls.
   */
  readonly maxRequestsJitter?: number;
  /** Recycle when the worker's memory (RSS or PSS, with children) reaches this, bytes. Default: never. */
  readonly maxRssBytes?: number;
  /** Recycle after this many consecutive failed health checks. Default: never. */
  readonly unhealthyAfter?: number;
  /** Custom rule, asked last: return a reason text to recycle, or `false`. Default: none. */
  readonly shouldRecycle?: (facts: WorkerFacts) => string | false;
}

/** Why a worker is recycled. */
export type RecycleReason = "unhealthy" | "memory" | "max-requests" | "ttl" | "custom";

/** The outcome of {@link decideRecycle}: one discriminant, `recycle`. */
export type RecycleDecision =
  | { readonly workerId: string; readonly recycle: false }
  | {
      readonly workerId: string;
      readonly recycle: true;
      readonly reason: RecycleReason;
      /** For people and logs, e.g. `served 52 calls, limit 52`. */
      readonly detail: string;
    };

/** The keys of a {@link RecyclePolicy}, for callers that accept a policy inside wider options. */
export const recyclePolicyKeys: readonly (keyof RecyclePolicy)[] = [
  "ttlMs",
  "maxRequests",
  "maxRequestsJitter",
  "maxRssBytes",
  "unhealthyAfter",
  "shouldRecycle",
];

/**
 * Validates a {@link RecyclePolicy} at the door: unknown keys and bad values throw
 * `INVALID_OPTIONS` naming `` `<path>.<key>` ``. Returns the policy unchanged.
 */
export function validateRecyclePolicy(policy: RecyclePolicy, path = "recycle"): RecyclePolicy {
  if (typeof policy !== "object" || policy === null) throw invalidOption(path, "an object", policy);
  rejectUnknownKeys(policy, recyclePolicyKeys, path);
  for (const key of ["ttlMs", "maxRequests", "maxRssBytes", "unhealthyAfter"] as const) {
    if (policy[key] !== undefined) expectInteger(`${path}.${key}`, policy[key], 1);
  }
  if (policy.maxRequestsJitter !== undefined) {
    expectInteger(`${path}.maxRequestsJitter`, policy.maxRequestsJitter, 0);
    if (policy.maxRequests === undefined && policy.maxRequestsJitter > 0) {
      throw invalidOption(
        `${path}.maxRequestsJitter`,
        "used together with `maxRequests`",
        policy.maxRequestsJitter,
      );
    }
  }
  if (policy.shouldRecycle !== undefined && typeof policy.shouldRecycle !== "function") {
    throw invalidOption(`${path}.shouldRecycle`, "a function", policy.shouldRecycle);
  }
  return policy;
}
