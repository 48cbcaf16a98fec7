import { create } from "@bufbuild/protobuf";
import { SnakepitError } from "@snakepit/errors";
import {
  type Arguments,
  ArgumentsSchema,
  contentTypes,
  type Payload,
  PayloadSchema,
} from "./contract.js";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Encodes a JavaScript value as a {@link Payload}: `Uint8Array` (and so `Buffer`) as raw bytes,
 * `undefined` as an empty payload (Python `None`), anything else as JSON.
 */
export function encodePayload(value: unknown): Payload {
  if (value instanceof Uint8Array)
    return create(PayloadSchema, { contentType: contentTypes.bytes, data: value });
  if (value === undefined) return create(PayloadSchema, { contentType: contentTypes.none });
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Value cannot be encoded as JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (text === undefined) {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Value of type ${typeof value} cannot be encoded as JSON`,
    );
  }
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
 * Encodes tool arguments: top-level values that are `Uint8Array`s travel as raw bytes in
 * `binary`, the rest as one JSON object. Arguments must be a plain object.
 */
export function encodeArguments(args: Readonly<Record<string, unknown>> | undefined): Arguments {
  if (args === undefined) return create(ArgumentsSchema, { json: encodePayload({}) });
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
  return create(ArgumentsSchema, { json: encodePayload(json), binary: binary ?? {} });
}

/** Decodes {@link Arguments} back to one object of keyword arguments (binary ones as `Uint8Array`). */
export function decodeArguments(args: Arguments | undefined): Record<string, unknown> {
  const json = args?.json === undefined ? {} : decodePayload(args.json);
  if (json !== null && (typeof json !== "object" || Array.isArray(json))) {
    throw new SnakepitError("PROTOCOL_ERROR", "Tool arguments must be a JSON object");
  }
  return { ...(json as Record<string, unknown> | null), ...args?.binary };
}
