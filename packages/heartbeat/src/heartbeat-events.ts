import type { SnakepitError } from "@snakepit/errors";

/** What made one heartbeat a miss: no answer within `timeoutMs`, or the ping rejected. */
export type MissCause = "timeout" | "rejected";

/** Fields every {@link HeartbeatEvent} carries. */
interface EventBase {
  /** The monitor's `name` option (e.g. a worker id), if one was given. */
  readonly name: string | undefined;
}

/** A ping was started. `sequence` counts pings from 1. */
export interface PingSentEvent extends EventBase {
  readonly type: "ping_sent";
  readonly sequence: number;
}

/** A ping resolved in time; the miss count is back to 0. */
export interface PongReceivedEvent extends EventBase {
  readonly type: "pong_received";
  readonly sequence: number;
  /** Milliseconds from starting the ping to its resolution. */
  readonly latencyMs: number;
}

/**
 * A ping was missed: it timed out (`cause: "timeout"`) or rejected (`cause: "rejected"`, with
 * the `error`). `missed` is the consecutive miss count including this one.
 */
export interface HeartbeatTimeoutEvent extends EventBase {
  readonly type: "heartbeat_timeout";
  readonly sequence: number;
  readonly missed: number;
  readonly cause: MissCause;
  readonly error: unknown;
}

/** The monitor failed (a ping timed out, or `maxMissed` rejections); `onFailure` is called right after. */
export interface MonitorFailureEvent extends EventBase {
  readonly type: "monitor_failure";
  readonly reason: HeartbeatFailure["reason"];
  readonly missed: number;
}

/** `stop(reason)` stopped a monitor that had not failed. */
export interface MonitorStoppedEvent extends EventBase {
  readonly type: "monitor_stopped";
  readonly reason: string;
}

/** Everything a monitor reports to `onEvent`, told apart by `type`. For observation only. */
export type HeartbeatEvent =
  | PingSentEvent
  | PongReceivedEvent
  | HeartbeatTimeoutEvent
  | MonitorFailureEvent
  | MonitorStoppedEvent;

/** Why a monitor failed, given once to `onFailure`. */
export interface HeartbeatFailure {
  /** `"timeout"`: a ping got no answer within `timeoutMs`; `"max-missed"`: `maxMissed` pings in a row were rejected. */
  readonly reason: "timeout" | "max-missed";
  /** Consecutive misses when the monitor failed (equals `maxMissed` for `"max-missed"`). */
  readonly missed: number;
  /** What made the last ping a miss. */
  readonly lastCause: MissCause;
  /** A `HEARTBEAT_FAILED` error to fail calls with; its `cause` is the last ping's error. */
  readonly error: SnakepitError;
  /** The monitor's `name` option, if any. */
  readonly name: string | undefined;
}
