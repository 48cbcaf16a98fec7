import { SnakepitError } from "@snakepit/errors";
import { invalidOption } from "@snakepit/errors/internal";
import { killOnWindows } from "./kill-on-windows.js";
import type { KillOutcome } from "./kill-outcome.js";
import { groupIsAlive, ownProcessGroup } from "./process-group.js";
import { expectPid, matchesIdentity, type ProcessIdentity } from "./process-identity.js";
import { isLiveEntry, readProcessEntry } from "./process-table.js";
import {
  type ExitInfo,
  type KillWithEscalationOptions,
  type ResolvedKillOptions,
  resolveKillOptions,
} from "./resolve-kill-options.js";
import { waitUntil } from "./wait-until.js";

/**
 * Stops a process (or its whole process group) for sure: sends `firstSignal` (or nothing, when
 * the caller has asked it to stop in its own way), waits up to `graceMs`, then SIGKILLs, and resolves only once the process, and with a group kill every
 * member, is really gone (zombies count as gone). Outcomes are data: see {@link KillOutcome}.
 *
 * Give a {@link ProcessIdentity} instead of a bare pid whenever the pid comes from a stored
 * record: the start time (and marker) are re-checked first, and when they no longer match, the
 * pid belongs to an unrelated process now and **nothing** is signalled (`identity-mismatch`).
 * When a group leader is gone but members of its group remain, the group is killed if the
 * leader is known to have led it (a recorded identity, or a leader that is still a zombie): the
 * OS does not reuse a pid while a group of that id exists.
 *
 * Rejects with `KILL_FAILED` (not permitted, or alive `killTimeoutMs` after SIGKILL),
 * `INVALID_OPTIONS`, or `ABORTED`. On Windows the tree is killed at once with
 * `taskkill /PID <pid> /T /F` (there is no SIGTERM to escalate from); that path is untested here.
 */
export async function killWithEscalation(
  target: number | ProcessIdentity,
  options: KillWithEscalationOptions = {},
): Promise<KillOutcome> {
  const startedAt = performance.now();
  const resolved = resolveKillOptions(options);
  const identity = typeof target === "number" ? undefined : expectIdentity(target);
  const pid = identity?.pid ?? expectPid("target", target);
  // One controller owns every timer and listener of this call; `finally` tears them down.
  const controller = new AbortController();
  const outer = resolved.signal;
  outer?.addEventListener("abort", () => controller.abort(outer.reason), {
    once: true,
    signal: controller.signal,
  });
  try {
    if (outer?.aborted) throw outer.reason;
    if (process.platform === "win32") {
      return await killOnWindows(pid, startedAt, resolved.killTimeoutMs, controller.signal);
    }
    return await escalate(pid, identity, resolved, startedAt, controller.signal);
  } catch (err) {
    if (outer?.aborted) {
      throw new SnakepitError("ABORTED", `Killing process ${pid} was aborted`, {
        cause: outer.reason,
        details: { pid },
      });
    }
    throw err;
  } finally {
    controller.abort();
  }
}

async function escalate(
  pid: number,
  identity: ProcessIdentity | undefined,
  options: ResolvedKillOptions,
  startedAt: number,
  signal: AbortSignal,
): Promise<KillOutcome> {
  const elapsedMs = () => Math.round(performance.now() - startedAt);
  const entry = readProcessEntry(pid);
  const zombiePgid = entry?.pgid; // read before the guard narrows a non-live entry to undefined
  let useGroup: boolean;
  let gone: () => boolean;
  if (!isLiveEntry(entry)) {
    // The leader is gone, but its group may live on. Known to have led it: a recorded identity
    // says so, or the leader is a zombie not yet reaped (its pid, so its group id, is still
    // taken; a start-up that fails just as the process exits races into this).
    const led = identity === undefined ? zombiePgid === pid : identity.pgid === pid;
    const orphanedGroup = led && options.group && pid !== ownProcessGroup() && groupIsAlive(pid);
    if (!orphanedGroup) return { pid, reason: "already-dead", elapsedMs: elapsedMs() };
    useGroup = true;
    gone = () => !groupIsAlive(pid);
  } else {
    if (identity !== undefined && !matchesIdentity(entry, identity)) {
      return { pid, reason: "identity-mismatch", elapsedMs: elapsedMs() };
    }
    useGroup = options.group && entry.pgid === pid && pid !== ownProcessGroup();
    const startTime = entry.startTime;
    // Compare start times, so a pid reused during the grace period reads as "gone", not alive.
    const leaderGone = () => {
      const now = readProcessEntry(pid);
      return !isLiveEntry(now) || now.startTime !== startTime;
    };
    gone = useGroup ? () => leaderGone() && !groupIsAlive(pid) : leaderGone;
  }

  let exit: ExitInfo | undefined;
  const wake = options.exited?.then(
    (info) => {
      exit = info;
    },
    () => undefined, // no exit info; polling still decides
  );
  const withExit = async (reason: KillOutcome["reason"]): Promise<KillOutcome> => {
    if (wake !== undefined && exit === undefined) {
      // The process is gone; Node's 'exit' event for a child follows within a tick or so.
      await waitUntil(() => exit !== undefined, performance.now() + 1000, signal, wake);
    }
    const outcome = { pid, reason, elapsedMs: elapsedMs() };
    if (exit === undefined) return outcome;
    if (reason !== "forced" && exit.code !== null) {
      return { ...outcome, reason: "exited", exitCode: exit.code };
    }
    return {
      ...outcome,
      ...(exit.code === null ? {} : { exitCode: exit.code }),
      ...(exit.signal === null ? {} : { signal: exit.signal }),
    };
  };

  const kill = useGroup ? -pid : pid;
  if (options.firstSignal !== null) send(kill, options.firstSignal);
  if (await waitUntil(gone, startedAt + options.graceMs, signal, wake)) {
    return withExit("signaled");
  }
  // Checked right before SIGKILL as well: never SIGKILL a pid that has been reused meanwhile.
  if (!gone()) send(kill, "SIGKILL");
  if (!(await waitUntil(gone, performance.now() + options.killTimeoutMs, signal, wake))) {
    throw new SnakepitError(
      "KILL_FAILED",
      `Process ${useGroup ? `group ${pid}` : pid} is still alive ${options.killTimeoutMs} ms after SIGKILL`,
      { details: { pid, group: useGroup } },
    );
  }
  return withExit("forced");
}

function send(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return; // gone already: fine
    const pid = Math.abs(target);
    throw new SnakepitError(
      "KILL_FAILED",
      `Could not send ${signal} to ${target < 0 ? "process group" : "process"} ${pid}: ${(err as Error).message}`,
      { cause: err, details: { pid, signal, group: target < 0 } },
    );
  }
}

function expectIdentity(value: unknown): ProcessIdentity {
  if (typeof value !== "object" || value === null) {
    throw invalidOption("target", "a pid or a ProcessIdentity", value);
  }
  const { pid, startTime, pgid } = value as Record<string, unknown>;
  expectPid("target.pid", pid);
  if (typeof startTime !== "number" || !Number.isFinite(startTime)) {
    throw invalidOption("target.startTime", "a finite number", startTime);
  }
  if (typeof pgid !== "number" || !Number.isInteger(pgid)) {
    throw invalidOption("target.pgid", "an integer", pgid);
  }
  return value as ProcessIdentity;
}
