import { describeValue } from "./describe-value.js";
import { SnakepitError } from "./snakepit-error.js";

/**
 * Builds the `INVALID_OPTIONS` error for an option that broke a rule, in the house form:
 * ``Expected `heartbeat.timeoutMs` to be a positive integer, got `-5` (number)``.
 */
export function invalidOption(path: string, rule: string, value: unknown): SnakepitError {
  return new SnakepitError(
    "INVALID_OPTIONS",
    `Expected \`${path}\` to be ${rule}, got ${describeValue(value)}`,
    {
      details: { option: path, rule },
    },
  );
}
