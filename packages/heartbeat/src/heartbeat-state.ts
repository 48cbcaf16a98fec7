import { SnakepitError } from "@snakepit/errors";

/**
 * The lifecycle of a heartbeat monitor:
 *
 * ```text
 * idle ──start()──▶ running ──maxMissed misses──▶ failed
 *   │                  │
 *   └────stop()────────┴──────stop()─────────────▶ stopped
 * ```
 *
 * `failed` and `stopped` are final: a monitor is used once.
 */
export type HeartbeatState = "idle" | "running" | "failed" | "stopped";

const allowed: Readonly<Record<HeartbeatState, readonly HeartbeatState[]>> = {
  idle: ["running", "stopped"],
  running: ["failed", "stopped"],
  failed: [],
  stopped: [],
};

/** The one place monitor states change: returns `to`, or throws `INTERNAL` on a bad move. */
export function transitionHeartbeat(from: HeartbeatState, to: HeartbeatState): HeartbeatState {
  if (!allowed[from].includes(to)) {
    throw new SnakepitError("INTERNAL", `Heartbeat monitor cannot go from ${from} to ${to}`, {
      details: { from, to },
    });
  }
  return to;
}
