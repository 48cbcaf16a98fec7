// For applications
export type {
  HeartbeatEvent,
  HeartbeatFailure,
  HeartbeatTimeoutEvent,
  MissCause,
  MonitorFailureEvent,
  MonitorStoppedEvent,
  PingSentEvent,
  PongReceivedEvent,
} from "./heartbeat-events.js";
export type {
  HeartbeatMonitor,
  HeartbeatMonitorOptions,
  HeartbeatStats,
} from "./heartbeat-monitor.js";
export { createHeartbeatMonitor } from "./heartbeat-monitor.js";
export type { HeartbeatSettings } from "./heartbeat-options.js";
// For other @snakepit packages: merge per-pool overrides over global defaults, validate once
export {
  heartbeatDefaults,
  mergeHeartbeatOptions,
  resolveHeartbeatOptions,
} from "./heartbeat-options.js";
export type { HeartbeatState } from "./heartbeat-state.js";
