import { invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";

/** An option that is an object of known keys, or absent: `INVALID_OPTIONS` for anything else. */
export function optionalObject(
  path: string,
  value: unknown,
  known: readonly string[],
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalidOption(path, "an object", value);
  rejectUnknownKeys(value, known, path);
  return value as Record<string, unknown>;
}
