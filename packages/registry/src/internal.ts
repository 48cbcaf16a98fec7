/**
 * `@snakepit/registry/internal`: building blocks that other `@snakepit` packages share. **Not
 * semver**: any release may change or remove these exports. Applications import
 * `@snakepit/registry`.
 *
 * @packageDocumentation
 */

// A run id before the registry exists, or without one (the pool's fork server and workers).
export { generateRunId, runIdMarker } from "./run-id.js";
