import { fromBinary } from "@bufbuild/protobuf";
import { contentTypes, frame, type Payload, type ToolError, type worker } from "./contract.js";

// The host's hottest incoming frame, read by hand: `Frame{call_id, body: execute_result}`. It
// builds the very objects protobuf-es's `fromBinary` would (same fields, `data` a view of the
// received bytes, not a copy); every other frame, and anything unusual in this one (an unknown or
// repeated message field, another field, a wire type the contract does not give, a string that
// is not valid UTF-8), goes to `fromBinary`, which then decides — or throws — as it always did.
// frame-answer-decoder.test.ts checks both on generated cases.

const strict = new TextDecoder("utf-8", { fatal: true });
const float = new Float64Array(1);
const floatBytes = new Uint8Array(float.buffer);
const emptyBytes = new Uint8Array(0);
/** Bytes of the two content types a result almost always has, compared before any decoding. */
const knownTypes = [contentTypes.json, contentTypes.bytes].map((text) => ({
  text,
  bytes: Uint8Array.from(text, (c) => c.charCodeAt(0)),
}));

/** Where the reader stands in the frame being decoded (decoding is synchronous, never re-entered). */
let pos = 0;

/** A `Frame` from its bytes: `execute_result` frames by hand, every other one by protobuf-es. */
export function decodeFrame(bytes: Uint8Array): frame.Frame {
  return decodeExecuteResultFrame(bytes) ?? fromBinary(frame.FrameSchema, bytes);
}

/**
 * The hand-written half of {@link decodeFrame}: the `execute_result` frame in `bytes`, or
 * `undefined` for anything it leaves to protobuf-es.
 */
export function decodeExecuteResultFrame(bytes: Uint8Array): frame.Frame | undefined {
  try {
    return decodeExecuteResult(bytes);
  } catch {
    // Invalid UTF-8 (the strict decoder throws): protobuf-es throws the error callers see.
    return undefined;
  }
}

function decodeExecuteResult(b: Uint8Array): frame.Frame | undefined {
  pos = 0;
  const end = b.length;
  let callId = 0;
  let response: worker.ExecuteResponse | undefined;
  while (pos < end) {
    const tag = b[pos++];
    if (tag === 0x08) {
      // Frame.call_id = 1, uint32
      const id = varint(b, end);
      if (id < 0) return undefined;
      callId = id;
    } else if (tag === 0x6a && response === undefined) {
      // Frame.execute_result = 13 (a second one would be merged: protobuf-es does that)
      const stop = lengthEnd(b, end);
      if (stop < 0) return undefined;
      response = decodeResponse(b, stop);
      if (response === undefined || pos !== stop) return undefined;
    } else return undefined;
  }
  if (response === undefined) return undefined;
  return {
    $typeName: "snakepit.bridge.v1.Frame",
    callId,
    body: { case: "executeResult", value: response },
    metadata: {},
    correlationId: "",
  };
}

function decodeResponse(b: Uint8Array, end: number): worker.ExecuteResponse | undefined {
  let outcome: worker.ExecuteResponse["outcome"] = { case: undefined };
  let durationMs = 0;
  while (pos < end) {
    const tag = b[pos++];
    if (tag === 0x19) {
      // ExecuteResponse.duration_ms = 3, double
      if (pos + 8 > end) return undefined;
      for (let i = 0; i < 8; i++) floatBytes[i] = b[pos + i] as number;
      durationMs = float[0] as number;
      pos += 8;
    } else if ((tag === 0x0a || tag === 0x12) && outcome.case === undefined) {
      const stop = lengthEnd(b, end);
      if (stop < 0) return undefined;
      // ExecuteResponse.result = 1 (Payload) or .error = 2 (ToolError)
      if (tag === 0x0a) {
        const value = decodePayload(b, stop);
        if (value === undefined) return undefined;
        outcome = { case: "result", value };
      } else {
        const value = decodeToolError(b, stop);
        if (value === undefined) return undefined;
        outcome = { case: "error", value };
      }
    } else return undefined;
  }
  return { $typeName: "snakepit.bridge.v1.ExecuteResponse", outcome, durationMs };
}

function decodePayload(b: Uint8Array, end: number): Payload | undefined {
  let contentType = "";
  let data: Uint8Array = emptyBytes;
  while (pos < end) {
    const tag = b[pos++];
    const stop = lengthEnd(b, end);
    if (stop < 0) return undefined;
    if (tag === 0x0a) contentType = knownType(b, stop) ?? strict.decode(b.subarray(pos, stop));
    else if (tag === 0x12) data = b.subarray(pos, stop);
    else return undefined;
    pos = stop;
  }
  return { $typeName: "snakepit.bridge.v1.Payload", contentType, data };
}

function decodeToolError(b: Uint8Array, end: number): ToolError | undefined {
  const error: ToolError = {
    $typeName: "snakepit.bridge.v1.ToolError",
    type: "",
    message: "",
    traceback: "",
    code: "",
  };
  while (pos < end) {
    const tag = b[pos++];
    const stop = lengthEnd(b, end);
    if (stop < 0) return undefined;
    if (tag === 0x22) {
      // ToolError.details = 4 (Payload); a second one would be merged
      if (error.details !== undefined) return undefined;
      const details = decodePayload(b, stop);
      if (details === undefined || pos !== stop) return undefined;
      error.details = details;
      continue;
    }
    const text = strict.decode(b.subarray(pos, stop));
    if (tag === 0x0a) error.type = text;
    else if (tag === 0x12) error.message = text;
    else if (tag === 0x1a) error.traceback = text;
    else if (tag === 0x2a) error.code = text;
    else return undefined;
    pos = stop;
  }
  return error;
}

/** The content type in `b[pos, stop)` when it is one of the usual two, without decoding. */
function knownType(b: Uint8Array, stop: number): string | undefined {
  outer: for (const known of knownTypes) {
    const bytes = known.bytes;
    if (stop - pos !== bytes.length) continue;
    for (let i = 0; i < bytes.length; i++) if (b[pos + i] !== bytes[i]) continue outer;
    return known.text;
  }
  return undefined;
}

/** Reads a length prefix; the end of the content it announces, or -1 past `end` or malformed. */
function lengthEnd(b: Uint8Array, end: number): number {
  const len = varint(b, end);
  if (len < 0 || pos + len > end) return -1;
  return pos + len;
}

/** Reads a uint32 varint of at most 5 bytes below `end`; -1 when it is longer or cut off. */
function varint(b: Uint8Array, end: number): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) return -1;
    const byte = b[pos++] as number;
    if (shift === 28) return byte > 0x0f ? -1 : result + byte * 0x10000000;
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) return result >>> 0;
  }
  return -1;
}
