import { constants } from "node:os";
import {
  expectBoolean,
  expectInteger,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors/internal";

/** How a child process ended, as Node's `'exit'` event reports it. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options of {@link killWithEscalation}. */
export interface KillWithEscalationOptions {
  /**
   * The polite signal sent first. `null` sends nothing first: the caller has already asked the
   * process to stop in its own way (closed its IPC channel or stdin, sent a shutdown request),
   * and only the `graceMs` wait and the SIGKILL remain. Default `"SIGTERM"`.
   */
  firstSignal?: NodeJS.Signals | null;
  /** How long to wait after the first signal before SIGKILL, in milliseconds. Default `2000`. */
  graceMs?: number;
  /**
   * Kill the whole process group (`kill(-pgid)`) when the target leads one (pgid = pid, as
   * after `spawn(..., { detached: true })`), and wait until every member is gone, so a worker's
   * own children die too, even re-parented ones. Has no effect on a process that does not lead
   * its group, and never targets the caller's own group. Default `true`.
   */
  group?: boolean;
  /**
   * How long to wait for the process to disappear after SIGKILL before rejecting with
   * `KILL_FAILED` (e.g. stuck in uninterruptible sleep), in milliseconds. Default `5000`.
   */
  killTimeoutMs?: number;
  /**
   * For a child of the current process: its exit (e.g. `once(child, "exit")` mapped to
   * `{ code, signal }`). Wakes the wait early and lets the outcome report `exitCode`/`signal`,
   * which cannot be known for a process that is not our child. Default: none.
   */
  exited?: Promise<ExitInfo>;
  /** Stops waiting and rejects with `ABORTED`; the process may then still be alive. */
  signal?: AbortSignal;
}

/** @internal Options with defaults applied, resolved in this one place. */
export interface ResolvedKillOptions {
  readonly firstSignal: NodeJS.Signals | null;
  readonly graceMs: number;
  readonly group: boolean;
  readonly killTimeoutMs: number;
  readonly exited: Promise<ExitInfo> | undefined;
  readonly signal: AbortSignal | undefined;
}

const KNOWN = ["firstSignal", "graceMs", "group", "killTimeoutMs", "exited", "signal"] as const;

/** @internal Validates {@link KillWithEscalationOptions} at the door and applies defaults. */
export function resolveKillOptions(options: KillWithEscalationOptions): ResolvedKillOptions {
  if (typeof options !== "object" || options === null) {
    throw invalidOption("options", "an object", options);
  }
  rejectUnknownKeys(options, KNOWN);
  const firstSignal = options.firstSignal === undefined ? "SIGTERM" : options.firstSignal;
  if (
    firstSignal !== null &&
    (typeof firstSignal !== "string" || !(firstSignal in constants.signals))
  ) {
    throw invalidOption("firstSignal", "a signal name such as `SIGTERM`, or null", firstSignal);
  }
  const { exited, signal } = options;
  if (exited !== undefined && typeof (exited as { then?: unknown }).then !== "function") {
    throw invalidOption("exited", "a promise", exited);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption("signal", "an AbortSignal", signal);
  }
  return {
    firstSignal,
    graceMs: expectInteger("graceMs", options.graceMs ?? 2000, 0),
    group: expectBoolean("group", options.group ?? true),
    killTimeoutMs: expectInteger("killTimeoutMs", options.killTimeoutMs ?? 5000, 0),
    exited,
    signal,
  };
}
