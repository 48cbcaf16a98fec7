/**
 * `@snakepit/telemetry/internal`: building blocks that other `@snakepit` packages share. **Not
 * semver**: any release may change or remove these exports. Applications import
 * `@snakepit/telemetry` (and subscribe; only the pool publishes).
 *
 * @packageDocumentation
 */

// The publishing side of the event catalogue, and the per-call client span.
export type { CallSpan, CallSpanOptions } from "./call-span.js";
export { startCallSpan } from "./call-span.js";
export { hasSubscribers, publish } from "./publish.js";
