/**
 * `@snakepit/errors/internal`: building blocks that other `@snakepit` packages share. **Not semver**:
 * any release may change or remove these exports. Applications import `@snakepit/errors`.
 *
 * @packageDocumentation
 */

// Option validation in the house form: ``Expected `heartbeat.timeoutMs` to be a positive integer``.
export { describeValue } from "./describe-value.js";
export { invalidOption } from "./invalid-option.js";
export {
  expectBoolean,
  expectInteger,
  expectString,
  rejectUnknownKeys,
} from "./validate-options.js";
