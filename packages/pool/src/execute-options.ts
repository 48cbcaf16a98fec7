import {
  expectBoolean,
  expectInteger,
  expectString,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors/internal";
import type { AffinityMode, ExecuteOptions } from "./pool-types.js";
import { validateSessionId } from "./session-input.js";

const KNOWN = [
  "signal",
  "timeoutMs",
  "correlationId",
  "sessionId",
  "affinity",
  "idempotent",
  "metadata",
] as const;
const AFFINITY_MODES: readonly string[] = ["hint", "strict-queue", "strict-fail-fast"];
const NONE: ExecuteOptions = Object.freeze({});

/**
 * Validates the options of one call at the door, exactly as pool options are: an unknown key
 * (`timeoutMS`) or a bad value (`timeoutMs: -5`) throws `INVALID_OPTIONS` naming the option,
 * the rule and the value. Cheap on the hot path: no options, no work.
 */
export function validateExecuteOptions(options: unknown): ExecuteOptions {
  if (options === undefined) return NONE;
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw invalidOption("options", "an object", options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const value = o[key];
    if (value === undefined && (KNOWN as readonly string[]).includes(key)) continue;
    switch (key as (typeof KNOWN)[number]) {
      case "signal":
        if (!(value instanceof AbortSignal)) throw invalidOption("signal", "an AbortSignal", value);
        break;
      case "timeoutMs":
        expectInteger("timeoutMs", value, 0);
        break;
      case "correlationId":
        expectString(key, value);
        break;
      case "sessionId":
        // The rule every session store shares (and its code, INVALID_ARGUMENTS: it is data).
        validateSessionId(value);
        break;
      case "affinity":
        if (!AFFINITY_MODES.includes(value as AffinityMode))
          throw invalidOption(
            "affinity",
            `one of ${AFFINITY_MODES.map((m) => `"${m}"`).join(", ")}`,
            value,
          );
        break;
      case "idempotent":
        expectBoolean("idempotent", value);
        break;
      case "metadata":
        validateMetadata(value);
        break;
      default:
        rejectUnknownKeys(o, KNOWN);
    }
  }
  return o as ExecuteOptions;
}

function validateMetadata(value: unknown): void {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalidOption("metadata", "an object of strings", value);
  for (const [k, v] of Object.entries(value))
    if (typeof v !== "string") throw invalidOption(`metadata.${k}`, "a string", v);
}
