/**
 * `@snakepit/heartbeat/internal`: building blocks that other `@snakepit` packages share. **Not semver**:
 * any release may change or remove these exports. Applications import `@snakepit/heartbeat`.
 *
 * @packageDocumentation
 */

// A composer (the pool) keeps global defaults and per-pool overrides as data and validates once.
export {
  heartbeatDefaults,
  mergeHeartbeatOptions,
  resolveHeartbeatOptions,
} from "./heartbeat-options.js";
