import { create, toBinary } from "@bufbuild/protobuf";
import { contentTypes, frame } from "./contract.js";
import { FRAME_HEADER_BYTES } from "./frame-decoder.js";
import { splitArguments } from "./payload-codec.js";
import type { ExecuteRpcOptions } from "./worker-client.js";
import { checkArgumentsSize, toExecuteRequest } from "./worker-messages.js";

// The host's hottest message, written by hand: `Frame{call_id, body: execute, metadata}` straight
// from the call's plain values into one buffer (sizes first, then one pass of writes), byte for
// byte what protobuf-es's `toBinary(create(...))` writes (fields in number order, proto3 defaults
// omitted, map entries with key and value always present). execute-frame-encoder.test.ts checks
// that on generated cases; anything this file does not handle goes through protobuf-es.

// The head starts with room for the length prefix and the call id (its tag and up to 5 varint
// bytes), filled in when the call has its id.
const RESERVED = FRAME_HEADER_BYTES + 6;
// Binary arguments this large travel as their own chunk after the bytes before them: never
// copied on encode (FrameWriter writes chunks of 64 KiB and more as they are).
const OWN_CHUNK_BYTES = 64 * 1024;
// Strings up to these lengths are measured, and ASCII ones written, by a loop rather than a call
// into C++ (measured on Node 20: the loop wins below ~8 characters for the length, ~24 to write).
const SHORT_MEASURE = 8;
const SHORT_WRITE = 24;

/**
 * One `execute` frame, encoded but for its call id: {@link chunks} stamps the id and hands the
 * wire bytes (length prefix included) over as one or more chunks.
 */
export class ExecuteFrame {
  readonly #head: Buffer;
  /** Where the head's first chunk ends; more chunks (large binary arguments, the head's later parts) follow. */
  readonly #firstEnd: number;
  readonly #more: Uint8Array[];
  /** Bytes of the frame after its call id field. */
  readonly #rest: number;

  constructor(head: Buffer, firstEnd: number, more: Uint8Array[], rest: number) {
    this.#head = head;
    this.#firstEnd = firstEnd;
    this.#more = more;
    this.#rest = rest;
  }

  /** The frame for call `callId` (a uint32), length prefix included, as chunks to write in order. */
  chunks(callId: number): Uint8Array[] {
    const head = this.#head;
    const idBytes = callId === 0 ? 0 : 1 + varintSize(callId);
    const start = RESERVED - idBytes - FRAME_HEADER_BYTES;
    head.writeUInt32BE(idBytes + this.#rest, start);
    if (idBytes > 0) {
      head[start + FRAME_HEADER_BYTES] = 0x08;
      writeVarint(head, start + FRAME_HEADER_BYTES + 1, callId);
    }
    const first = head.subarray(start, this.#firstEnd);
    return this.#more.length === 0 ? [first] : [first, ...this.#more];
  }
}

/** Byte lengths of the strings of one frame, measured in the first pass, used in the second. */
let lengths = new Int32Array(64);
let count = 0;

function measure(s: string): number {
  const n = utf8Length(s);
  if (count === lengths.length) {
    const grown = new Int32Array(count * 2);
    grown.set(lengths);
    lengths = grown;
  }
  lengths[count++] = n;
  return n;
}

/**
 * The `Frame{execute}` of a call (see `toExecuteRequest` in worker-messages.ts: the same fields),
 * with `metadata` as the frame's metadata. Throws `INVALID_ARGUMENTS` and `PAYLOAD_TOO_LARGE` as
 * `toExecuteRequest` does, before anything is written.
 */
export function encodeExecuteFrame(
  tool: string,
  args: Readonly<Record<string, unknown>> | undefined,
  opts: ExecuteRpcOptions | undefined,
  metadata: Readonly<Record<string, string>> | undefined,
  maxBytes = Number.POSITIVE_INFINITY,
): ExecuteFrame {
  const { json, binary } = splitArguments(args);
  const callId = opts?.callId ?? "";
  const sessionId = opts?.sessionId ?? "";
  const timeoutMs = opts?.timeoutMs ?? 0;
  const callMetadata = opts?.callMetadata;
  if (
    typeof tool !== "string" ||
    typeof callId !== "string" ||
    typeof sessionId !== "string" ||
    !(Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= 0xffffffff)
  )
    return viaProtobufEs(tool, args, opts, metadata, maxBytes);

  count = 0;
  // Pass 1: sizes, innermost first. `own` counts bytes that travel as their own chunks.
  const toolLen = measure(tool);
  const jsonLen = measure(json);
  let own = 0;
  let binaryLen = 0;
  let argumentBytes = jsonLen;
  if (binary !== undefined)
    for (const key in binary) {
      const value = binary[key] as Uint8Array;
      const entry = field(measure(key)) + field(value.length);
      binaryLen += field(entry);
      argumentBytes += value.length + key.length;
      if (value.length >= OWN_CHUNK_BYTES) own += value.length;
    }
  if (maxBytes !== Number.POSITIVE_INFINITY) checkArgumentsSize(tool, argumentBytes, maxBytes);
  const payloadLen = 2 + contentTypes.json.length + (jsonLen === 0 ? 0 : field(jsonLen));
  const argumentsLen = field(payloadLen) + binaryLen;
  const callIdLen = measure(callId);
  const sessionIdLen = measure(sessionId);
  const callMetadataLen = mapSize(callMetadata, 1); // CallContext.metadata = 4
  const frameMetadataLen = mapSize(metadata, 2); // Frame.metadata = 17: a two-byte tag
  if (callMetadataLen < 0 || frameMetadataLen < 0)
    return viaProtobufEs(tool, args, opts, metadata, maxBytes);
  const contextLen =
    optionalField(callIdLen) +
    optionalField(sessionIdLen) +
    (timeoutMs === 0 ? 0 : 1 + varintSize(timeoutMs)) +
    callMetadataLen;
  const requestLen = optionalField(toolLen) + field(argumentsLen) + field(contextLen);
  const rest = field(requestLen) + frameMetadataLen;

  // Pass 2: writes, in field-number order, with the lengths measured above.
  const head = Buffer.allocUnsafe(RESERVED + rest - own);
  let at = 0;
  let pos = RESERVED;
  head[pos++] = 0x2a; // Frame.execute = 5
  pos = writeVarint(head, pos, requestLen);
  if (toolLen > 0) {
    head[pos++] = 0x0a; // ExecuteRequest.tool = 1
    pos = writeString(head, writeVarint(head, pos, toolLen), tool, toolLen);
  }
  at++;
  head[pos++] = 0x12; // ExecuteRequest.arguments = 2
  pos = writeVarint(head, pos, argumentsLen);
  head[pos++] = 0x0a; // Arguments.json = 1
  pos = writeVarint(head, pos, payloadLen);
  head[pos++] = 0x0a; // Payload.content_type = 1
  head[pos++] = contentTypes.json.length;
  pos = writeAscii(head, pos, contentTypes.json);
  if (jsonLen > 0) {
    head[pos++] = 0x12; // Payload.data = 2
    pos = writeString(head, writeVarint(head, pos, jsonLen), json, jsonLen);
  }
  at++;
  let firstEnd = 0;
  const more: Uint8Array[] = [];
  let segment = 0;
  if (binary !== undefined)
    for (const key in binary) {
      const value = binary[key] as Uint8Array;
      const keyLen = lengths[at++] as number;
      head[pos++] = 0x12; // Arguments.binary = 2, one entry
      pos = writeVarint(head, pos, field(keyLen) + field(value.length));
      head[pos++] = 0x0a;
      pos = writeString(head, writeVarint(head, pos, keyLen), key, keyLen);
      head[pos++] = 0x12;
      pos = writeVarint(head, pos, value.length);
      if (value.length >= OWN_CHUNK_BYTES) {
        if (firstEnd === 0) firstEnd = pos;
        else more.push(head.subarray(segment, pos));
        more.push(value);
        segment = pos;
      } else {
        head.set(value, pos);
        pos += value.length;
      }
    }
  head[pos++] = 0x1a; // ExecuteRequest.context = 3
  pos = writeVarint(head, pos, contextLen);
  pos = writeOptionalString(head, pos, 0x0a, callId, callIdLen); // CallContext.call_id = 1
  pos = writeOptionalString(head, pos, 0x12, sessionId, sessionIdLen); // .session_id = 2
  at += 2;
  if (timeoutMs !== 0) {
    head[pos++] = 0x18; // CallContext.timeout_ms = 3
    pos = writeVarint(head, pos, timeoutMs);
  }
  if (callMetadata !== undefined) ({ pos, at } = writeMap(head, pos, at, [0x22], callMetadata));
  if (metadata !== undefined) ({ pos, at } = writeMap(head, pos, at, [0x8a, 0x01], metadata));
  if (firstEnd === 0) firstEnd = pos;
  else more.push(head.subarray(segment, pos));
  return new ExecuteFrame(head, firstEnd, more, rest);
}

/**
 * Bytes of a `map<string, string>` field whose tag takes `tagBytes`: one length-delimited entry
 * per key, key and value always written. -1 for a value that is not a string.
 */
function mapSize(map: Readonly<Record<string, string>> | undefined, tagBytes: number): number {
  if (map === undefined) return 0;
  let bytes = 0;
  for (const key in map) {
    if (!Object.hasOwn(map, key)) continue;
    const value = map[key];
    if (typeof value !== "string") return -1;
    bytes += tagBytes - 1 + field(field(measure(key)) + field(measure(value)));
  }
  return bytes;
}

function writeMap(
  head: Buffer,
  pos: number,
  at: number,
  tag: readonly number[],
  map: Readonly<Record<string, string>>,
): { pos: number; at: number } {
  for (const key in map) {
    if (!Object.hasOwn(map, key)) continue;
    const value = map[key] as string;
    const keyLen = lengths[at++] as number;
    const valueLen = lengths[at++] as number;
    for (const byte of tag) head[pos++] = byte;
    pos = writeVarint(head, pos, field(keyLen) + field(valueLen));
    head[pos++] = 0x0a;
    pos = writeString(head, writeVarint(head, pos, keyLen), key, keyLen);
    head[pos++] = 0x12;
    pos = writeString(head, writeVarint(head, pos, valueLen), value, valueLen);
  }
  return { pos, at };
}

/** The frame through protobuf-es, call id left out (it is field 1, written first: see {@link ExecuteFrame.chunks}). */
function viaProtobufEs(
  tool: string,
  args: Readonly<Record<string, unknown>> | undefined,
  opts: ExecuteRpcOptions | undefined,
  metadata: Readonly<Record<string, string>> | undefined,
  maxBytes: number,
): ExecuteFrame {
  const request = toExecuteRequest(tool, args, opts, maxBytes);
  const bytes = toBinary(
    frame.FrameSchema,
    create(frame.FrameSchema, { body: { case: "execute", value: request }, metadata }),
  );
  const head = Buffer.allocUnsafe(RESERVED + bytes.length);
  head.set(bytes, RESERVED);
  return new ExecuteFrame(head, head.length, [], bytes.length);
}

/** Bytes of a length-delimited field with a one-byte tag and `len` bytes of content. */
function field(len: number): number {
  return 1 + varintSize(len) + len;
}

/** As {@link field}, for a proto3 string that is left out when empty. */
function optionalField(len: number): number {
  return len === 0 ? 0 : field(len);
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes `v` (a uint32) as a varint at `pos`; returns the position after it. */
function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/**
 * UTF-8 length of `s` as `TextEncoder` (and so protobuf-es) writes it: a lone surrogate becomes
 * U+FFFD, 3 bytes.
 */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT_MEASURE) return Buffer.byteLength(s, "utf8");
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

function writeString(buf: Buffer, pos: number, s: string, len: number): number {
  if (len <= SHORT_WRITE && len === s.length) return writeAscii(buf, pos, s);
  return pos + (buf as unknown as Utf8Writer).utf8Write(s, pos, len);
}

function writeOptionalString(
  buf: Buffer,
  pos: number,
  tag: number,
  s: string,
  len: number,
): number {
  if (len === 0) return pos;
  buf[pos++] = tag;
  return writeString(buf, writeVarint(buf, pos, len), s, len);
}

function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}

/** Node's UTF-8 writer on `Buffer.prototype` (what `write(s, offset, length, "utf8")` calls, without its argument checks). */
interface Utf8Writer {
  utf8Write(s: string, offset: number, length: number): number;
}
