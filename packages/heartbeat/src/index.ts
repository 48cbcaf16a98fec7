// For applications. Building blocks for other @snakepit packages: `@snakepit/heartbeat/internal`.
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
export type { HeartbeatState } from "./heartbeat-state.js";
