import { create } from "@bufbuild/protobuf";
import { SnakepitError } from "@snakepit/errors";
import {
  type Arguments,
  ArgumentsSchema,
  contentTypes,
  type Payload,
  PayloadSchema,
} from "./contract.js";
import { describeLossyValue, pathSegment, pathToHolder } from "./payload-path.js";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Thrown inside the JSON replacer and caught by {@link toJson}: where the walk stopped and why. */
class Rejection {
  constructor(
    readonly holder: object,
    readonly key: string,
    readonly reason: string,
  ) {}
}

/**
 * A JSON replacer that validates during the one walk `JSON.stringify` makes anyway (no second
 * pass over large payloads). It rejects what JSON would silently change: functions, Symbols and
 * BigInts, non-finite numbers (JSON writes `null`), `Map`/`Set`/`RegExp`/`Error`/`Promise` and
 * the like (JSON writes `{}`), invalid `Date`s (JSON writes `null`) and binary values below the
 * top level (JSON writes `{"0": …}`). `toJSON()` is honoured (a valid `Date` travels as its ISO
 * string); `undefined` follows JSON: an `undefined` property is omitted, an `undefined` array
 * element is `null` (Python `None`). Objects that `toJSON()` returned are noted in `produced`
 * so that the path of a rejected value can be found behind them.
 */
function checkingReplacer(produced: Map<object, unknown>) {
  return function checkValue(this: unknown, key: string, value: unknown): unknown {
    switch (typeof value) {
      case "string":
      case "boolean":
      case "undefined":
        return value;
      case "number":
        if (Number.isFinite(value)) return value;
        throw new Rejection(this as object, key, `is ${value}, which JSON would turn into null`);
      case "object": {
        if (Array.isArray(value)) return value;
        // `this[key]` is the value before `toJSON()`: a Buffer's toJSON() hides that it was binary.
        const raw = (this as Record<string, unknown>)[key];
        const reason = describeLossyValue(raw, value);
        if (reason !== undefined) throw new Rejection(this as object, key, reason);
        if (raw !== value && typeof raw === "object" && raw !== null) produced.set(raw, value);
        return value;
      }
      default:
        throw new Rejection(
          this as object,
          key,
          `is a ${typeof value}, which JSON would ${typeof value === "bigint" ? "refuse" : "drop"}`,
        );
    }
  };
}

/**
 * True for a plain object whose own and inherited enumerable values are all strings, finite
 * numbers, booleans or null: JSON keeps it exactly, so it needs no checking replacer (which
 * costs more than the rest of a small call, and takes `JSON.stringify` off its fast path).
 */
function isFlatJson(value: unknown): boolean {
  if (
    typeof value !== "object" ||
    value === null ||
    Object.getPrototypeOf(value) !== Object.prototype
  )
    return false;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    switch (typeof v) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (Number.isFinite(v)) continue;
        return false;
      default:
        if (v === null) continue;
        return false;
    }
  }
  return true;
}

function toJson(value: unknown, root: string): string {
  if (isFlatJson(value)) return JSON.stringify(value);
  const produced = new Map<object, unknown>();
  try {
    const text = JSON.stringify(value, checkingReplacer(produced));
    // Only reachable for a top-level `undefined`, which callers handle before.
    if (text === undefined) throw new Rejection({ "": value }, "", "cannot be encoded as JSON");
    return text;
  } catch (err) {
    if (err instanceof Rejection) {
      const above = pathToHolder(value, err.holder, produced);
      // Not found: the holder is JSON's `{"": value}` wrapper, so the root value itself is wrong.
      const path =
        above === undefined ? root : [root, ...above, pathSegment(err.holder, err.key)].join("");
      throw new SnakepitError("INVALID_ARGUMENTS", `\`${path}\` ${err.reason}`, {
        details: { path },
      });
    }
    // JSON.stringify's own errors: a cycle, or a throwing getter or toJSON().
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `\`${root}\` cannot be encoded as JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Encodes a JavaScript value as a {@link Payload}: `Uint8Array` (and so `Buffer`) as raw bytes,
 * `undefined` as an empty payload (Python `None`), anything else as JSON.
 *
 * A value that JSON would silently change — a function, Symbol or BigInt, `NaN`/`±Infinity`, a
 * `Map`, `Set` or other non-plain built-in, an invalid `Date`, or binary data nested below the top
 * level — throws `INVALID_ARGUMENTS` naming its path from `root` (e.g. ``root.items[2].when``).
 *
 * @param root What to call the value in error messages. Default `"value"`.
 */
export function encodePayload(value: unknown, root = "value"): Payload {
  if (value instanceof Uint8Array)
    return create(PayloadSchema, { contentType: contentTypes.bytes, data: value });
  if (value === undefined) return create(PayloadSchema, { contentType: contentTypes.none });
  const text = toJson(value, root);
  return create(PayloadSchema, { contentType: contentTypes.json, data: encoder.encode(text) });
}

/**
 * Decodes a {@link Payload}: JSON to a value, raw bytes to a `Buffer` (a `Uint8Array`), an empty payload
 * (Python `None`) to `null`.
 */
export function decodePayload(payload: Payload | undefined): unknown {
  if (payload === undefined || payload.contentType === contentTypes.none) return null;
  // A Buffer view of the received bytes (no copy): a Uint8Array with Node's conveniences.
  if (payload.contentType === contentTypes.bytes)
    return Buffer.from(payload.data.buffer, payload.data.byteOffset, payload.data.byteLength);
  if (payload.contentType === contentTypes.json) {
    try {
      return JSON.parse(decoder.decode(payload.data));
    } catch (cause) {
      throw new SnakepitError("PROTOCOL_ERROR", "A peer sent a JSON payload that does not parse", {
        cause,
      });
    }
  }
  throw new SnakepitError(
    "PROTOCOL_ERROR",
    `A peer sent a payload with unknown content type "${payload.contentType}"`,
  );
}

/**
 * Encodes tool arguments: top-level values that are `Uint8Array`s (and so `Buffer`s) travel as
 * raw bytes in `binary`, the rest as one JSON object. Arguments must be a plain object.
 *
 * Binary values are carried only at the top level; one nested deeper, a value JSON would silently
 * change (see {@link encodePayload}) or another binary view (`ArrayBuffer`, `Float64Array`, …)
 * throws `INVALID_ARGUMENTS` naming its path, e.g. ``args.items[2].when``.
 */
export function encodeArguments(args: Readonly<Record<string, unknown>> | undefined): Arguments {
  const { json, binary } = splitArguments(args);
  return create(ArgumentsSchema, {
    json: create(PayloadSchema, { contentType: contentTypes.json, data: encoder.encode(json) }),
    binary: binary ?? {},
  });
}

/**
 * Tool arguments as {@link encodeArguments} carries them, before any message is built: the JSON
 * text of the non-binary ones (`application/json`) and the top-level binary ones (`undefined`
 * when there are none). Throws as {@link encodeArguments}.
 */
export function splitArguments(args: Readonly<Record<string, unknown>> | undefined): {
  json: string;
  binary: Record<string, Uint8Array> | undefined;
} {
  if (args === undefined) return { json: "{}", binary: undefined };
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Tool arguments must be a plain object of keyword arguments, got ${Array.isArray(args) ? "an array" : typeof args}`,
    );
  }
  let binary: Record<string, Uint8Array> | undefined;
  let json: Record<string, unknown> = args;
  for (const key in args) {
    const value = args[key];
    if (value instanceof Uint8Array) {
      if (binary === undefined) {
        binary = {};
        json = { ...args };
      }
      binary[key] = value;
      delete json[key];
    }
  }
  return { json: toJson(json, "args"), binary };
}

/** Decodes {@link Arguments} back to one object of keyword arguments (binary ones as `Uint8Array`). */
export function decodeArguments(args: Arguments | undefined): Record<string, unknown> {
  const json = args?.json === undefined ? {} : decodePayload(args.json);
  if (json !== null && (typeof json !== "object" || Array.isArray(json))) {
    throw new SnakepitError("PROTOCOL_ERROR", "Tool arguments must be a JSON object");
  }
  return { ...(json as Record<string, unknown> | null), ...args?.binary };
}
