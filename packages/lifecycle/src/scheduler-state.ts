import { SnakepitError } from "@snakepit/errors";

/**
 * The lifecycle of a scheduler: `idle ──start()──▶ running ──stop()──▶ stopped`, and
 * `idle ──stop()──▶ stopped`. `stopped` is final.
 */
export type SchedulerState = "idle" | "running" | "stopped";

const allowed: Readonly<Record<SchedulerState, readonly SchedulerState[]>> = {
  idle: ["running", "stopped"],
  running: ["stopped"],
  stopped: [],
};

/** The one place scheduler states change: returns `to`, or throws `INTERNAL` on a bad move. */
export function transitionScheduler(from: SchedulerState, to: SchedulerState): SchedulerState {
  if (!allowed[from].includes(to)) {
    throw new SnakepitError("INTERNAL", `Lifecycle scheduler cannot go from ${from} to ${to}`, {
      details: { from, to },
    });
  }
  return to;
}
