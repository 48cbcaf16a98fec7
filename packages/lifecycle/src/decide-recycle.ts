import type { RecycleDecision, RecyclePolicy, WorkerFacts } from "./recycle-policy.js";
import { resolveMaxRequests, workerRandom } from "./resolve-max-requests.js";

const MIB = 1024 * 1024;

/**
 * Decides whether to recycle one worker, and why. Pure: same facts, policy and `now` (epoch
 * ms), same answer. The first rule that matches wins, in this order: `unhealthy` (broken now),
 * `memory` (hurting the machine), `max-requests`, `ttl`, then the custom `shouldRecycle`.
 *
 * The request limit is `facts.maxRequests` when the caller fixed one at the worker's start
 * (see {@link resolveMaxRequests}), else one derived from the worker id. The policy is assumed
 * valid ({@link validateRecyclePolicy}).
 */
export function decideRecycle(
  facts: WorkerFacts,
  policy: RecyclePolicy,
  now: number,
): RecycleDecision {
  const { workerId } = facts;
  const yes = (
    reason: "unhealthy" | "memory" | "max-requests" | "ttl" | "custom",
    detail: string,
  ) => ({ workerId, recycle: true, reason, detail }) as const;

  if (policy.unhealthyAfter !== undefined) {
    const failures = facts.consecutiveHealthFailures ?? (facts.healthy === false ? 1 : 0);
    if (failures >= policy.unhealthyAfter) {
      return yes(
        "unhealthy",
        `${failures} health checks failed in a row, limit ${policy.unhealthyAfter}`,
      );
    }
  }
  if (
    policy.maxRssBytes !== undefined &&
    facts.memoryBytes !== undefined &&
    (facts.memorySampledAt === undefined || facts.memorySampledAt >= facts.startedAt) &&
    facts.memoryBytes >= policy.maxRssBytes
  ) {
    return yes(
      "memory",
      `uses ${(facts.memoryBytes / MIB).toFixed(1)} MiB, limit ${(policy.maxRssBytes / MIB).toFixed(1)} MiB`,
    );
  }
  const limit = facts.maxRequests ?? resolveMaxRequests(policy, () => workerRandom(workerId));
  if (limit !== undefined && facts.callsServed >= limit) {
    return yes("max-requests", `served ${facts.callsServed} calls, limit ${limit}`);
  }
  if (policy.ttlMs !== undefined) {
    const ageMs = now - facts.startedAt;
    if (ageMs >= policy.ttlMs) return yes("ttl", `up ${ageMs} ms, ttl ${policy.ttlMs} ms`);
  }
  const custom = policy.shouldRecycle?.(facts);
  if (typeof custom === "string") return yes("custom", custom);
  return { workerId, recycle: false };
}
