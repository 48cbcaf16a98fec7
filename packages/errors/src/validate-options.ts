import { invalidOption } from "./invalid-option.js";
import { SnakepitError } from "./snakepit-error.js";

/**
 * Rejects keys of `options` that are not in `known`: a misspelt option is an error, never
 * silently ignored. `path` prefixes the key in the message (e.g. `heartbeat`).
 */
export function rejectUnknownKeys(options: object, known: readonly string[], path = ""): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const name = path === "" ? key : `${path}.${key}`;
      throw new SnakepitError(
        "INVALID_OPTIONS",
        `Unknown option \`${name}\`; known options are ${known.map((k) => `\`${k}\``).join(", ")}`,
        {
          details: { option: name, rule: "known option" },
        },
      );
    }
  }
}

/** Returns `value` if it is an integer ≥ `min` (default 0), else throws `INVALID_OPTIONS`. */
export function expectInteger(path: string, value: unknown, min = 0): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw invalidOption(path, min === 1 ? "a positive integer" : `an integer >= ${min}`, value);
  }
  return value;
}

/** Returns `value` if it is a boolean, else throws `INVALID_OPTIONS`. */
export function expectBoolean(path: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw invalidOption(path, "a boolean", value);
  return value;
}

/** Returns `value` if it is a non-empty string, else throws `INVALID_OPTIONS`. */
export function expectString(path: string, value: unknown): string {
  if (typeof value !== "string" || value === "")
    throw invalidOption(path, "a non-empty string", value);
  return value;
}
