import { create, toBinary } from "@bufbuild/protobuf";
import { contentTypes, frame } from "./contract.js";
import { FRAME_HEADER_BYTES } from "./frame-decoder.js";
import { splitArguments } from "./payload-codec.js";
import {
  field,
  optionalField,
  utf8Length,
  varintSize,
  writeAscii,
  writeEntry,
  writeString,
  writeVarint,
} from "./proto-wire-writes.js";
import type { ExecuteRpcOptions } from "./worker-client.js";
import { checkArgumentsSize, toExecuteRequest } from "./worker-messages.js";

// The host's hottest message, written by hand: `Frame{call_id, body: execute, metadata,
// correlation_id}` straight from the call's plain values into the writer's buffer (sizes first,
// then one pass of writes), byte for byte what protobuf-es's `toBinary(create(...))` writes (fields in number order, proto3
// defaults omitted, map entries with key and value always present). frame-codec.test.ts checks
// that on generated cases; anything this file does not handle goes through protobuf-es.

// Binary arguments this large travel as their own chunk after the bytes before them: never
// copied on encode (see FrameSink.pushChunk).
const OWN_CHUNK_BYTES = 64 * 1024;
const JSON_TYPE = contentTypes.json;

/** Where frames are written: a buffer with room at `offset`, and whole chunks in between. */
export interface FrameSink {
  /** A buffer with at least `bytes` free from {@link offset}. */
  room(bytes: number): Buffer;
  /** Where the next byte goes in the buffer {@link room} returned. */
  readonly offset: number;
  /** Bytes up to `end` of that buffer are written. */
  commit(end: number): void;
  /** Sends `chunk` (not copied) after what was committed so far. */
  pushChunk(chunk: Uint8Array): void;
}

/**
 * Encodes `execute` frames in two steps: {@link measure} checks a call and sizes its frame,
 * throwing before anything is written; once the call has its id, {@link write} writes that frame
 * (length prefix included) into a {@link FrameSink}. The measured call is kept between the two
 * (one encoder per connection; nothing else may run in between).
 */
export class ExecuteFrameEncoder {
  /** Byte lengths of the strings of the frame, in the order {@link write} meets them. */
  #lengths = new Int32Array(64);
  #count = 0;
  // The measured call.
  #tool = "";
  #json = "";
  #binary: Record<string, Uint8Array> | undefined;
  #callId = "";
  #sessionId = "";
  #timeoutMs = 0;
  #callMetadata: Readonly<Record<string, string>> | undefined;
  #metadata: Readonly<Record<string, string>> | undefined;
  #correlationId: string | undefined;
  // Its sizes.
  #toolLen = 0;
  #jsonLen = 0;
  #payloadLen = 0;
  #argumentsLen = 0;
  #contextLen = 0;
  #requestLen = 0;
  /** Bytes of the frame after its call id field. */
  #rest = 0;
  /** The frame after its call id, when protobuf-es encoded it. */
  #fallback: Uint8Array | undefined;

  /**
   * Checks and sizes the `Frame{execute}` of a call (see `toExecuteRequest` in
   * worker-messages.ts: the same fields), with `metadata` as the frame's metadata and its
   * correlation id. Throws `INVALID_ARGUMENTS` and `PAYLOAD_TOO_LARGE` as `toExecuteRequest`
   * does.
   */
  measure(
    tool: string,
    args: Readonly<Record<string, unknown>> | undefined,
    opts: ExecuteRpcOptions | undefined,
    metadata: Readonly<Record<string, string>> | undefined,
    correlationId: string | undefined,
    maxBytes = Number.POSITIVE_INFINITY,
  ): void {
    const { json, binary } = splitArguments(args);
    const callId = opts?.callId ?? "";
    const sessionId = opts?.sessionId ?? "";
    const timeoutMs = opts?.timeoutMs ?? 0;
    const callMetadata = opts?.callMetadata;
    this.#fallback = undefined;
    if (
      typeof tool !== "string" ||
      typeof callId !== "string" ||
      typeof sessionId !== "string" ||
      (correlationId !== undefined && typeof correlationId !== "string") ||
      !(Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= 0xffffffff)
    ) {
      this.#viaProtobufEs(tool, args, opts, metadata, correlationId, maxBytes);
      return;
    }
    this.#count = 0;
    // Sizes, innermost first.
    const toolLen = this.#measure(tool);
    const jsonLen = this.#measure(json);
    let binaryLen = 0;
    let argumentBytes = jsonLen;
    if (binary !== undefined)
      for (const key in binary) {
        const value = binary[key] as Uint8Array;
        binaryLen += field(field(this.#measure(key)) + field(value.length));
        argumentBytes += value.length + key.length;
      }
    if (maxBytes !== Number.POSITIVE_INFINITY) checkArgumentsSize(tool, argumentBytes, maxBytes);
    const payloadLen = 2 + JSON_TYPE.length + (jsonLen === 0 ? 0 : field(jsonLen));
    const argumentsLen = field(payloadLen) + binaryLen;
    const callIdLen = this.#measure(callId);
    const sessionIdLen = this.#measure(sessionId);
    const callMetadataLen = this.#mapSize(callMetadata, 1); // CallContext.metadata = 4
    const frameMetadataLen = this.#mapSize(metadata, 2); // Frame.metadata = 17: a two-byte tag
    const correlationLen = correlationId === undefined ? 0 : this.#measure(correlationId);
    if (callMetadataLen < 0 || frameMetadataLen < 0) {
      this.#viaProtobufEs(tool, args, opts, metadata, correlationId, maxBytes);
      return;
    }
    const contextLen =
      optionalField(callIdLen) +
      optionalField(sessionIdLen) +
      (timeoutMs === 0 ? 0 : 1 + varintSize(timeoutMs)) +
      callMetadataLen;
    const requestLen = optionalField(toolLen) + field(argumentsLen) + field(contextLen);
    this.#tool = tool;
    this.#json = json;
    this.#binary = binary;
    this.#callId = callId;
    this.#sessionId = sessionId;
    this.#timeoutMs = timeoutMs;
    this.#callMetadata = callMetadata;
    this.#metadata = metadata;
    this.#correlationId = correlationId;
    this.#toolLen = toolLen;
    this.#jsonLen = jsonLen;
    this.#payloadLen = payloadLen;
    this.#argumentsLen = argumentsLen;
    this.#contextLen = contextLen;
    this.#requestLen = requestLen;
    // Frame.correlation_id = 18: a two-byte tag.
    this.#rest =
      field(requestLen) + frameMetadataLen + (correlationLen === 0 ? 0 : 1 + field(correlationLen));
  }

  /** Writes the frame {@link measure} sized, for call `callId` (a uint32), into `sink`. */
  write(sink: FrameSink, callId: number): void {
    const idBytes = callId === 0 ? 0 : 1 + varintSize(callId);
    const fallback = this.#fallback;
    if (fallback !== undefined) {
      const buf = sink.room(FRAME_HEADER_BYTES + idBytes + fallback.length);
      const pos = this.#head(buf, sink.offset, callId, idBytes, fallback.length);
      if (fallback.length >= OWN_CHUNK_BYTES) {
        sink.commit(pos);
        sink.pushChunk(fallback);
        return;
      }
      buf.set(fallback, pos);
      sink.commit(pos + fallback.length);
      return;
    }
    // Bytes still to write into the sink's buffer (large binary arguments go as their own chunks).
    let left = FRAME_HEADER_BYTES + idBytes + this.#rest;
    const binary = this.#binary;
    if (binary !== undefined)
      for (const key in binary) {
        const length = (binary[key] as Uint8Array).length;
        if (length >= OWN_CHUNK_BYTES) left -= length;
      }
    const lengths = this.#lengths;
    let at = 2;
    let buf = sink.room(left);
    const start = sink.offset;
    let pos = this.#head(buf, start, callId, idBytes, this.#rest);
    buf[pos++] = 0x2a; // Frame.execute = 5
    pos = writeVarint(buf, pos, this.#requestLen);
    if (this.#toolLen > 0) {
      buf[pos++] = 0x0a; // ExecuteRequest.tool = 1
      pos = writeString(buf, writeVarint(buf, pos, this.#toolLen), this.#tool, this.#toolLen);
    }
    buf[pos++] = 0x12; // ExecuteRequest.arguments = 2
    pos = writeVarint(buf, pos, this.#argumentsLen);
    buf[pos++] = 0x0a; // Arguments.json = 1
    pos = writeVarint(buf, pos, this.#payloadLen);
    buf[pos++] = 0x0a; // Payload.content_type = 1
    buf[pos++] = JSON_TYPE.length;
    pos = writeAscii(buf, pos, JSON_TYPE);
    if (this.#jsonLen > 0) {
      buf[pos++] = 0x12; // Payload.data = 2
      pos = writeString(buf, writeVarint(buf, pos, this.#jsonLen), this.#json, this.#jsonLen);
    }
    let segmentStart = start;
    if (binary !== undefined)
      for (const key in binary) {
        const value = binary[key] as Uint8Array;
        const keyLen = lengths[at++] as number;
        buf[pos++] = 0x12; // Arguments.binary = 2, one entry
        pos = writeVarint(buf, pos, field(keyLen) + field(value.length));
        buf[pos++] = 0x0a;
        pos = writeString(buf, writeVarint(buf, pos, keyLen), key, keyLen);
        buf[pos++] = 0x12;
        pos = writeVarint(buf, pos, value.length);
        if (value.length >= OWN_CHUNK_BYTES) {
          sink.commit(pos);
          left -= pos - segmentStart;
          sink.pushChunk(value);
          buf = sink.room(left);
          pos = segmentStart = sink.offset;
        } else {
          buf.set(value, pos);
          pos += value.length;
        }
      }
    buf[pos++] = 0x1a; // ExecuteRequest.context = 3
    pos = writeVarint(buf, pos, this.#contextLen);
    const callIdLen = lengths[at++] as number;
    if (callIdLen > 0) {
      buf[pos++] = 0x0a; // CallContext.call_id = 1
      pos = writeString(buf, writeVarint(buf, pos, callIdLen), this.#callId, callIdLen);
    }
    const sessionIdLen = lengths[at++] as number;
    if (sessionIdLen > 0) {
      buf[pos++] = 0x12; // CallContext.session_id = 2
      pos = writeString(buf, writeVarint(buf, pos, sessionIdLen), this.#sessionId, sessionIdLen);
    }
    if (this.#timeoutMs !== 0) {
      buf[pos++] = 0x18; // CallContext.timeout_ms = 3
      pos = writeVarint(buf, pos, this.#timeoutMs);
    }
    const callMetadata = this.#callMetadata;
    if (callMetadata !== undefined)
      for (const key in callMetadata) {
        if (!Object.hasOwn(callMetadata, key)) continue;
        buf[pos++] = 0x22; // CallContext.metadata = 4
        pos = writeEntry(buf, pos, key, callMetadata[key] as string, lengths, at);
        at += 2;
      }
    const metadata = this.#metadata;
    if (metadata !== undefined)
      for (const key in metadata) {
        if (!Object.hasOwn(metadata, key)) continue;
        buf[pos++] = 0x8a; // Frame.metadata = 17
        buf[pos++] = 0x01;
        pos = writeEntry(buf, pos, key, metadata[key] as string, lengths, at);
        at += 2;
      }
    const correlationId = this.#correlationId;
    if (correlationId !== undefined) {
      const correlationLen = lengths[at] as number;
      if (correlationLen > 0) {
        buf[pos++] = 0x92; // Frame.correlation_id = 18
        buf[pos++] = 0x01;
        pos = writeString(
          buf,
          writeVarint(buf, pos, correlationLen),
          correlationId,
          correlationLen,
        );
      }
    }
    sink.commit(pos);
  }

  /** The length prefix and the call id field at `pos`; returns the position after them. */
  #head(buf: Buffer, pos: number, callId: number, idBytes: number, rest: number): number {
    buf.writeUInt32BE(idBytes + rest, pos);
    pos += FRAME_HEADER_BYTES;
    if (idBytes > 0) {
      buf[pos++] = 0x08; // Frame.call_id = 1
      pos = writeVarint(buf, pos, callId);
    }
    return pos;
  }

  #measure(s: string): number {
    const n = utf8Length(s);
    if (this.#count === this.#lengths.length) {
      const grown = new Int32Array(this.#count * 2);
      grown.set(this.#lengths);
      this.#lengths = grown;
    }
    this.#lengths[this.#count++] = n;
    return n;
  }

  /**
   * Bytes of a `map<string, string>` field whose tag takes `tagBytes`: one length-delimited entry
   * per key, key and value always written. -1 for a value that is not a string.
   */
  #mapSize(map: Readonly<Record<string, string>> | undefined, tagBytes: number): number {
    if (map === undefined) return 0;
    let bytes = 0;
    for (const key in map) {
      if (!Object.hasOwn(map, key)) continue;
      const value = map[key];
      if (typeof value !== "string") return -1;
      bytes += tagBytes - 1 + field(field(this.#measure(key)) + field(this.#measure(value)));
    }
    return bytes;
  }

  /** The frame through protobuf-es, call id left out (it is field 1, written first). */
  #viaProtobufEs(
    tool: string,
    args: Readonly<Record<string, unknown>> | undefined,
    opts: ExecuteRpcOptions | undefined,
    metadata: Readonly<Record<string, string>> | undefined,
    correlationId: string | undefined,
    maxBytes: number,
  ): void {
    const request = toExecuteRequest(tool, args, opts, maxBytes);
    this.#fallback = toBinary(
      frame.FrameSchema,
      create(frame.FrameSchema, {
        body: { case: "execute", value: request },
        metadata,
        correlationId: correlationId ?? "",
      }),
    );
  }
}
