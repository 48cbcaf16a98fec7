import { SnakepitError } from "@snakepit/errors";
import { invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";
import { isAlive } from "./is-alive.js";
import { expectPid } from "./process-identity.js";
import { waitUntil } from "./wait-until.js";

/** Options of {@link waitUntilGone}. */
export interface WaitUntilGoneOptions {
  /** Stops waiting and rejects with `ABORTED`. Default: wait as long as the process lives. */
  signal?: AbortSignal;
}

/**
 * Resolves once no live process has this pid (zombies count as gone), without signalling it:
 * for a process that is not this one's child, so no `'exit'` event will tell (e.g. a worker
 * re-parented after its parent died). Polls with backoff (1, 2, 4, … ≤ 50 ms); the wait keeps
 * the event loop alive. Rejects with `ABORTED` when `signal` aborts, `INVALID_OPTIONS` for a
 * pid that is not a positive integer.
 */
export async function waitUntilGone(
  pid: number,
  options: WaitUntilGoneOptions = {},
): Promise<void> {
  expectPid("pid", pid);
  if (typeof options !== "object" || options === null) {
    throw invalidOption("options", "an object", options);
  }
  rejectUnknownKeys(options, ["signal"]);
  const outer = options.signal;
  if (outer !== undefined && !(outer instanceof AbortSignal)) {
    throw invalidOption("signal", "an AbortSignal", outer);
  }
  // One controller owns the naps and the listener; `finally` tears them down.
  const controller = new AbortController();
  outer?.addEventListener("abort", () => controller.abort(outer.reason), {
    once: true,
    signal: controller.signal,
  });
  try {
    if (outer?.aborted) throw outer.reason;
    await waitUntil(() => !isAlive(pid), Number.POSITIVE_INFINITY, controller.signal);
  } catch (err) {
    if (outer?.aborted) {
      throw new SnakepitError("ABORTED", `Waiting for process ${pid} to end was aborted`, {
        cause: outer.reason,
        details: { pid },
      });
    }
    throw err;
  } finally {
    controller.abort();
  }
}
