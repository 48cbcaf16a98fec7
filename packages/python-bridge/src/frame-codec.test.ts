import { isDeepStrictEqual } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  contentTypes,
  frame,
  metadataKeys,
  type Payload,
  PayloadSchema,
  ToolErrorSchema,
  worker,
} from "./contract.js";
import { ExecuteFrameEncoder, type FrameSink } from "./execute-frame-encoder.js";
import { decodeExecuteResultFrame, decodeFrame } from "./frame-answer-decoder.js";
import type { ExecuteRpcOptions } from "./worker-client.js";
import { toExecuteRequest } from "./worker-messages.js";

// The hand-written frame codec against protobuf-es, on generated cases (a seeded PRNG: a failure
// names its seed and case, and reruns the same). Encoding must be byte-identical to
// `toBinary(create(...))`; decoding must equal `fromBinary` (and throw when it throws).

/** mulberry32: small, fast, seeded. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const KiB = 1024;
const MiB = 1024 * KiB;
// Varint edges: 1, 2, 3, 4 and 5 bytes.
const uint32Edges = [
  1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 0xffff_fffe,
  0xffff_ffff,
];
const pieces = [
  "a",
  "tool_name",
  " ",
  "\0",
  "é",
  "ß",
  "中文",
  "€",
  "😀",
  "𝄞",
  "\u{10ffff}",
  "\ud800", // lone high surrogate
  "\udc00", // lone low surrogate
  "\udbff\udfff",
  "\ufffd",
  "\u07ff",
  "\u0800",
  "\uffff",
  "\n",
  '"',
  "\\",
];

function randomString(r: Rng, max = 80): string {
  switch (r.int(6)) {
    case 0:
      return "";
    case 1:
      return "x".repeat(r.int(max));
    case 2: {
      let s = "";
      const n = r.int(max);
      for (let i = 0; i < n; i++) s += String.fromCharCode(0x20 + r.int(95));
      return s;
    }
    case 3: {
      // Any UTF-16 code unit, lone surrogates included.
      let s = "";
      const n = r.int(max);
      for (let i = 0; i < n; i++) s += String.fromCharCode(r.int(0x10000));
      return s;
    }
    default: {
      let s = "";
      const n = r.int(max / 2);
      for (let i = 0; i < n; i++) s += r.pick(pieces);
      return s;
    }
  }
}

function randomBytes(r: Rng): Uint8Array {
  const size = r.chance(0.004)
    ? MiB + r.int(1000)
    : r.pick([0, 1, 7, 100, r.int(2000), 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, r.int(200 * KiB)]);
  const bytes = r.chance(0.5) ? new Uint8Array(size) : Buffer.allocUnsafe(size);
  for (let i = 0; i < Math.min(size, 64); i++) bytes[i] = r.int(256);
  if (size > 0) bytes[size - 1] = r.int(256);
  return bytes;
}

function randomMap(r: Rng): Record<string, string> | undefined {
  if (r.chance(0.3)) return undefined;
  const map: Record<string, string> = {};
  const n = r.pick([0, 1, 2, 5, r.int(40)]);
  for (let i = 0; i < n; i++)
    map[r.chance(0.1) ? String(r.int(5)) : randomString(r, 30)] = randomString(r);
  return map;
}

function randomJson(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 4 : 6)) {
    case 0:
      return randomString(r);
    case 1:
      return r.next() * 1e6 - 5e5;
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return r.chance(0.01) ? "y".repeat(MiB + r.int(100)) : r.int(1000);
    case 4:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) o[randomString(r, 20)] = randomJson(r, depth + 1);
      return o;
    }
  }
}

function randomArgs(r: Rng): Record<string, unknown> | undefined {
  if (r.chance(0.1)) return undefined;
  const args: Record<string, unknown> = {};
  for (let i = r.pick([0, 1, 1, 2, 4, 8]); i > 0; i--) {
    const key = r.chance(0.1) ? String(r.int(4)) : randomString(r, 20);
    args[key] = r.chance(0.3) ? randomBytes(r) : randomJson(r);
  }
  return args;
}

function randomUint32(r: Rng): number {
  return r.chance(0.5) ? r.pick(uint32Edges) : r.int(2 ** 32 - 1) + 1;
}

interface ExecuteCase {
  readonly tool: string;
  readonly args: Record<string, unknown> | undefined;
  readonly opts: ExecuteRpcOptions | undefined;
  readonly metadata: Record<string, string> | undefined;
  readonly correlationId?: string | undefined;
  readonly callId: number;
  readonly maxBytes: number;
}

/** A sink that keeps what is written, each `room` exactly the size asked (an overrun shows). */
class CollectingSink implements FrameSink {
  readonly chunks: Uint8Array[] = [];
  #buf = Buffer.alloc(0);
  #start = 0;
  offset = 0;
  room(bytes: number): Buffer {
    if (this.#buf.length - this.offset >= bytes) return this.#buf;
    this.#seal();
    this.#buf = Buffer.alloc(bytes);
    this.#start = 0;
    this.offset = 0;
    return this.#buf;
  }
  commit(end: number): void {
    this.offset = end;
  }
  pushChunk(chunk: Uint8Array): void {
    this.#seal();
    this.chunks.push(chunk);
  }
  done(): Uint8Array[] {
    this.#seal();
    return this.chunks;
  }
  #seal(): void {
    if (this.offset > this.#start) this.chunks.push(this.#buf.subarray(this.#start, this.offset));
    this.#start = this.offset;
  }
}

const encoder = new ExecuteFrameEncoder();

/** The frame the hand encoder writes for `c`, as the chunks it handed to its sink. */
function encodeExecute(c: ExecuteCase): Uint8Array[] {
  encoder.measure(c.tool, c.args, c.opts, c.metadata, c.correlationId, c.maxBytes);
  const sink = new CollectingSink();
  encoder.write(sink, c.callId);
  return sink.done();
}

function randomExecute(r: Rng): ExecuteCase {
  let opts: ExecuteRpcOptions | undefined;
  if (!r.chance(0.15)) {
    const o: Record<string, unknown> = {};
    if (r.chance(0.8)) o.callId = randomString(r, 40);
    if (r.chance(0.5)) o.sessionId = randomString(r, 40);
    if (r.chance(0.6)) o.timeoutMs = r.chance(0.5) ? r.pick([0, ...uint32Edges]) : r.int(100_000);
    const callMetadata = randomMap(r);
    if (callMetadata !== undefined) o.callMetadata = callMetadata;
    opts = o;
  }
  let metadata = randomMap(r);
  // The correlation id has a field of its own; the metadata key is just another key here.
  if (r.chance(0.2)) metadata = { ...metadata, [metadataKeys.correlationId]: randomString(r, 40) };
  return {
    tool: randomString(r, 60),
    args: randomArgs(r),
    opts,
    metadata,
    correlationId: r.chance(0.6) ? randomString(r, 40) : undefined,
    callId: randomUint32(r),
    maxBytes: r.chance(0.1) ? r.int(300) : Number.POSITIVE_INFINITY,
  };
}

/** What the frames client sent before the hand encoder: protobuf-es, from `toExecuteRequest`. */
function referenceExecute(c: ExecuteCase): Uint8Array {
  const request = toExecuteRequest(c.tool, c.args, c.opts, c.maxBytes);
  return toBinary(
    frame.FrameSchema,
    create(frame.FrameSchema, {
      callId: c.callId,
      body: { case: "execute", value: request },
      metadata: c.metadata,
      correlationId: c.correlationId ?? "",
    }),
  );
}

/** Where two byte strings first differ, with a little context; undefined when equal. */
function difference(actual: Uint8Array, expected: Uint8Array): string | undefined {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.length);
  const e = Buffer.from(expected.buffer, expected.byteOffset, expected.length);
  if (a.equals(e)) return undefined;
  let at = 0;
  while (at < a.length && at < e.length && a[at] === e[at]) at++;
  const around = (b: Buffer) => b.subarray(Math.max(0, at - 8), at + 16).toString("hex");
  return `lengths ${a.length} vs ${e.length}, first difference at ${at}: ${around(a)} vs ${around(e)}`;
}

function outcome<T>(f: () => T): { value: T } | { error: unknown } {
  try {
    return { value: f() };
  } catch (error) {
    return { error };
  }
}

describe("the hand-written execute frame encoder", () => {
  it("writes what protobuf-es writes, on 3000 generated calls", () => {
    const r = prng(0x5eed_0013);
    for (let i = 0; i < 3000; i++) {
      const c = randomExecute(r);
      const expected = outcome(() => referenceExecute(c));
      const actual = outcome(() => encodeExecute(c));
      if ("error" in expected) {
        expect(actual, `case ${i}`).toEqual(expected);
        continue;
      }
      if (!("value" in actual)) throw actual.error;
      const chunks = actual.value;
      const wire = Buffer.concat(chunks);
      expect(wire.readUInt32BE(0), `case ${i}: length prefix`).toBe(expected.value.length);
      expect(difference(wire.subarray(4), expected.value), `case ${i}`).toBeUndefined();
      // Large binary arguments are never copied: they are chunks of their own.
      const own = new Set(chunks);
      for (const value of Object.values(c.args ?? {}))
        if (value instanceof Uint8Array && value.length >= 64 * KiB)
          expect(own.has(value), `case ${i}: large binary argument copied`).toBe(true);
    }
  });

  it("covers the varint edges of the call id, writing one measured frame again and again", () => {
    encoder.measure("echo", { value: "x" }, undefined, undefined, "c-1");
    for (const callId of uint32Edges) {
      const sink = new CollectingSink();
      encoder.write(sink, callId);
      const wire = Buffer.concat(sink.done());
      const expected = referenceExecute({
        tool: "echo",
        args: { value: "x" },
        opts: undefined,
        metadata: undefined,
        correlationId: "c-1",
        callId,
        maxBytes: Number.POSITIVE_INFINITY,
      });
      expect(difference(wire.subarray(4), expected)).toBeUndefined();
    }
  });

  it("goes through protobuf-es for values it does not write by hand, failing as it fails", () => {
    for (const timeoutMs of [1.5, -1, 2 ** 32, Number.NaN]) {
      const c: ExecuteCase = {
        tool: "echo",
        args: {},
        opts: { timeoutMs },
        metadata: undefined,
        callId: 1,
        maxBytes: Number.POSITIVE_INFINITY,
      };
      expect(
        outcome(() => {
          const wire = Buffer.concat(encodeExecute(c));
          expect(wire.readUInt32BE(0)).toBe(wire.length - 4);
          return wire.subarray(4);
        }),
      ).toEqual(outcome(() => Buffer.from(referenceExecute(c))));
    }
  });

  it("throws PAYLOAD_TOO_LARGE and INVALID_ARGUMENTS before writing anything", () => {
    expect(() =>
      encoder.measure("t", { a: "x".repeat(100) }, undefined, undefined, "c", 50),
    ).toThrow(
      expect.objectContaining({
        code: "PAYLOAD_TOO_LARGE",
        details: { size: 108, limit: 50, tool: "t" },
      }),
    );
    expect(() => encoder.measure("t", { a: () => 1 }, undefined, undefined, "c")).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENTS" }),
    );
  });
});

function randomPayload(r: Rng): Payload {
  const contentType = r.pick([
    contentTypes.json,
    contentTypes.json,
    contentTypes.bytes,
    contentTypes.none,
    "application/jsonx",
    randomString(r, 30),
  ]);
  const data =
    contentType === contentTypes.json
      ? new TextEncoder().encode(JSON.stringify(randomJson(r)))
      : randomBytes(r);
  return create(PayloadSchema, { contentType, data });
}

function randomResponse(r: Rng): worker.ExecuteResponse {
  const durationMs = r.pick([
    0,
    -0,
    1.5,
    r.next() * 1000,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1e-300,
  ]);
  switch (r.int(4)) {
    case 0:
      return create(worker.ExecuteResponseSchema, { durationMs });
    case 1: {
      const error = create(ToolErrorSchema, {
        type: randomString(r, 30),
        message: randomString(r),
        traceback: r.chance(0.5) ? randomString(r, 2000) : "",
        code: r.pick(["", "TOOL_NOT_FOUND", "ABORTED", randomString(r, 20)]),
        ...(r.chance(0.5) ? { details: randomPayload(r) } : {}),
      });
      return create(worker.ExecuteResponseSchema, {
        outcome: { case: "error", value: error },
        durationMs,
      });
    }
    default:
      return create(worker.ExecuteResponseSchema, {
        outcome: { case: "result", value: randomPayload(r) },
        durationMs,
      });
  }
}

/** Every other kind of frame, for the fallback. */
function randomOtherBody(r: Rng): frame.Frame["body"] {
  switch (r.int(9)) {
    case 0:
      return {
        case: "pong",
        value: create(worker.PingResponseSchema, { message: randomString(r), pid: r.int(1e6) }),
      };
    case 1:
      return {
        case: "heartbeatAck",
        value: create(worker.HeartbeatResponseSchema, { sequence: BigInt(r.int(1e9)) }),
      };
    case 2:
      return {
        case: "tools",
        value: create(worker.DescribeToolsResponseSchema, {
          adapter: randomString(r),
          tools: [{ name: randomString(r), description: randomString(r), parameters: [] }],
        }),
      };
    case 3:
      return {
        case: "streamEvent",
        value: create(worker.ExecuteStreamResponseSchema, {
          event: { case: "chunk", value: randomPayload(r) },
        }),
      };
    case 4:
      return { case: "shutdownDone", value: create(worker.ShutdownResponseSchema) };
    case 5:
      return {
        case: "failed",
        value: create(frame.CallFailedSchema, {
          code: "PAYLOAD_TOO_LARGE",
          message: randomString(r),
          detailsJson: "{}",
        }),
      };
    case 6:
      return {
        case: "execute",
        value: create(worker.ExecuteRequestSchema, { tool: randomString(r) }),
      };
    case 7:
      return { case: "credit", value: create(frame.StreamCreditSchema, { chunks: r.int(100) }) };
    default:
      return { case: undefined };
  }
}

/** A field the contract does not have (numbers above every message's), of any wire type. */
function unknownField(r: Rng): Uint8Array {
  const no = 18 + r.int(2000);
  const wireType = r.pick([0, 1, 2, 5]);
  const tag: number[] = [];
  let t = (no << 3) | wireType;
  while (t > 0x7f) {
    tag.push((t & 0x7f) | 0x80);
    t >>>= 7;
  }
  tag.push(t);
  const body =
    wireType === 0
      ? [0x96, 0x01]
      : wireType === 1
        ? [1, 2, 3, 4, 5, 6, 7, 8]
        : wireType === 5
          ? [1, 2, 3, 4]
          : [3, 65, 66, 67];
  return Uint8Array.from([...tag, ...body]);
}

/** Inserts `extra` as the last field of the ExecuteResponse (or the frame) in `frameBytes`. */
function withExtraField(r: Rng, frameBytes: Uint8Array, extra: Uint8Array): Uint8Array {
  if (r.chance(0.5)) return Buffer.concat([frameBytes, extra]);
  const response = fromBinary(frame.FrameSchema, frameBytes);
  if (response.body.case !== "executeResult") return Buffer.concat([frameBytes, extra]);
  const inner = Buffer.concat([toBinary(worker.ExecuteResponseSchema, response.body.value), extra]);
  const head = toBinary(frame.FrameSchema, create(frame.FrameSchema, { callId: response.callId }));
  const len: number[] = [];
  let n = inner.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([head, Uint8Array.from([0x6a, ...len]), inner]);
}

/** The bytes as the socket hands them over: a view into a larger Buffer. */
function asReceived(bytes: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(bytes.length + 11);
  buf.set(bytes, 7);
  return buf.subarray(7, 7 + bytes.length);
}

function expectSameDecode(bytes: Uint8Array, label: string): void {
  const expected = outcome(() => fromBinary(frame.FrameSchema, bytes));
  const actual = outcome(() => decodeFrame(bytes));
  if ("error" in expected) {
    expect("error" in actual, `${label}: protobuf-es throws`).toBe(true);
    if ("error" in actual) expect(String(actual.error), label).toBe(String(expected.error));
    return;
  }
  // node:util compares typed arrays as bytes (and prototypes strictly); vitest's matchers walk
  // them element by element, which takes minutes on 1 MiB payloads. They only describe a failure.
  if (!isDeepStrictEqual(actual, expected)) expect(actual, label).toStrictEqual(expected);
}

describe("the hand-written execute_result frame decoder", () => {
  it("reads what protobuf-es reads, on 3000 generated frames, with views of the bytes", () => {
    const r = prng(0xdec0_0013);
    for (let i = 0; i < 3000; i++) {
      const callId = r.chance(0.05) ? 0 : randomUint32(r);
      const body: frame.Frame["body"] = r.chance(0.8)
        ? { case: "executeResult", value: randomResponse(r) }
        : randomOtherBody(r);
      let bytes: Uint8Array = toBinary(
        frame.FrameSchema,
        create(frame.FrameSchema, { callId, body }),
      );
      const unknown = r.chance(0.1);
      if (unknown) bytes = withExtraField(r, bytes, unknownField(r));
      const received = asReceived(bytes);
      expectSameDecode(received, `case ${i}`);
      // The hand-written path reads every plain execute_result frame (no fallback behind the tests' back).
      if (body.case === "executeResult" && !unknown)
        expect(decodeExecuteResultFrame(received), `case ${i}: read by hand`).toBeDefined();
      const decoded = decodeFrame(received);
      if (decoded.body.case === "executeResult" && decoded.body.value.outcome.case === "result") {
        const data = decoded.body.value.outcome.value.data;
        if (data.length > 0)
          expect(data.buffer, `case ${i}: a view, not a copy`).toBe(received.buffer);
      }
    }
  });

  it("matches protobuf-es on repeated fields (last wins, messages merge) and a metadata map", () => {
    const r = prng(7);
    for (let i = 0; i < 300; i++) {
      const a = toBinary(
        frame.FrameSchema,
        create(frame.FrameSchema, {
          callId: randomUint32(r),
          body: { case: "executeResult", value: randomResponse(r) },
        }),
      );
      const b = toBinary(
        frame.FrameSchema,
        create(frame.FrameSchema, {
          callId: randomUint32(r),
          body: { case: "executeResult", value: randomResponse(r) },
        }),
      );
      expectSameDecode(Buffer.concat([a, b]), `case ${i}: two frames' fields`);
      const m = toBinary(frame.FrameSchema, create(frame.FrameSchema, { metadata: randomMap(r) }));
      expectSameDecode(Buffer.concat([a, m]), `case ${i}: with metadata`);
    }
  });

  it("fails as protobuf-es fails on truncated and corrupted frames", () => {
    const r = prng(99);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(
        toBinary(
          frame.FrameSchema,
          create(frame.FrameSchema, {
            callId: randomUint32(r),
            body: { case: "executeResult", value: randomResponse(r) },
          }),
        ),
      );
      if (bytes.length > 300_000) continue;
      const broken = r.chance(0.5) ? bytes.subarray(0, r.int(bytes.length)) : Buffer.from(bytes);
      if (broken === bytes || r.chance(0.5))
        for (let k = 1 + r.int(3); k > 0; k--)
          if (broken.length > 0) broken[r.int(broken.length)] = r.int(256);
      expectSameDecode(broken, `case ${i}`);
    }
  });

  it("rejects invalid UTF-8 in a string as protobuf-es does", () => {
    const error = create(ToolErrorSchema, { type: "ValueError", message: "ab" });
    const bytes = Buffer.from(
      toBinary(
        frame.FrameSchema,
        create(frame.FrameSchema, {
          callId: 3,
          body: {
            case: "executeResult",
            value: create(worker.ExecuteResponseSchema, {
              outcome: { case: "error", value: error },
            }),
          },
        }),
      ),
    );
    bytes[bytes.indexOf("ab")] = 0xff;
    expect(() => fromBinary(frame.FrameSchema, bytes)).toThrow();
    expectSameDecode(bytes, "invalid UTF-8");
  });
});
