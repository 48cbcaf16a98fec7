import { SnakepitError } from "@snakepit/errors";
import { describeValue } from "@snakepit/errors/internal";

/** The longest session id a store accepts, in UTF-16 code units. */
export const MAX_SESSION_ID_LENGTH = 256;
/** The longest session key a store accepts, in UTF-16 code units. */
export const MAX_SESSION_KEY_LENGTH = 1024;
// Deeper JSON than this is refused rather than risking a stack overflow in a peer's parser.
const MAX_DEPTH = 256;

/**
 * Checks a session id from anywhere (a caller's `execute` options, a Python worker, a host):
 * a non-empty string of at most {@link MAX_SESSION_ID_LENGTH} characters without control
 * characters. Throws `INVALID_ARGUMENTS` naming the rule and the value.
 */
export function validateSessionId(sessionId: unknown): asserts sessionId is string {
  if (typeof sessionId !== "string") {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Expected a session id to be a string, got ${describeValue(sessionId)}`,
    );
  }
  if (sessionId.length === 0 || sessionId.length > MAX_SESSION_ID_LENGTH) {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Expected a session id of 1 to ${MAX_SESSION_ID_LENGTH} characters, got ${sessionId.length}: ${describeValue(sessionId)}`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f]/.test(sessionId)) {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Expected a session id without control characters, got ${describeValue(sessionId)}`,
    );
  }
}

/** Checks a session key: a non-empty string of at most {@link MAX_SESSION_KEY_LENGTH} characters. */
export function validateSessionKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_SESSION_KEY_LENGTH) {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Expected a session key to be a string of 1 to ${MAX_SESSION_KEY_LENGTH} characters, got ${describeValue(key)}`,
    );
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// The first byte of an encoded value says what follows.
const JSON_TAG = 0x6a; // "j": UTF-8 JSON text
const BYTES_TAG = 0x62; // "b": raw bytes

/**
 * Encodes one session value for storage: a `Uint8Array` (so a `Buffer`) as raw bytes, anything
 * else as JSON. Only values that come back equal can be stored: JSON data (`null`, booleans,
 * finite numbers, strings, arrays, plain objects) or top-level bytes. Anything else (`undefined`,
 * functions, `BigInt`, `NaN`, `Date`, `Map`, class instances, cycles, bytes nested in JSON) throws
 * `INVALID_ARGUMENTS` naming the key, so every store refuses the same values.
 */
export function encodeSessionValue(key: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    const out = new Uint8Array(value.byteLength + 1);
    out[0] = BYTES_TAG;
    out.set(value, 1);
    return out;
  }
  const problem = unstorable(value, 0, new Set());
  if (problem !== undefined) {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Session value for key ${JSON.stringify(key)} cannot be stored: ${problem}`,
    );
  }
  const text = encoder.encode(JSON.stringify(value));
  const out = new Uint8Array(text.byteLength + 1);
  out[0] = JSON_TAG;
  out.set(text, 1);
  return out;
}

/** Decodes what {@link encodeSessionValue} made: bytes come back as a `Buffer`. */
export function decodeSessionValue(encoded: Uint8Array): unknown {
  const body = encoded.subarray(1);
  if (encoded[0] === BYTES_TAG) return Buffer.from(body);
  if (encoded[0] === JSON_TAG) return JSON.parse(decoder.decode(body));
  throw new SnakepitError(
    "PROTOCOL_ERROR",
    `A stored session value has an unknown tag byte ${encoded[0] ?? "(empty value)"}`,
  );
}

function unstorable(value: unknown, depth: number, seen: Set<object>): string | undefined {
  if (depth > MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${value} is not a finite number`;
    case "object":
      break;
    default:
      return `a ${typeof value} is not JSON data`;
  }
  if (value === null) return undefined;
  if (seen.has(value)) return "it contains a cycle";
  if (value instanceof Uint8Array) return "bytes are storable only as a whole value, not nested";
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    return `a ${value.constructor?.name ?? "non-plain object"} is not JSON data`;
  }
  seen.add(value);
  for (const [k, v] of Object.entries(value)) {
    const inner = unstorable(v, depth + 1, seen);
    if (inner !== undefined) return Array.isArray(value) ? inner : `${inner} (at ${k})`;
  }
  seen.delete(value);
  return undefined;
}
