/**
 * `@snakepit/lifecycle/internal`: building blocks that other `@snakepit` packages share. **Not semver**:
 * any release may change or remove these exports. Applications import `@snakepit/lifecycle`.
 *
 * @packageDocumentation
 */

// For options that embed a recycle policy next to keys of their own (the pool's `recycle`).
export { recyclePolicyKeys } from "./recycle-policy.js";
