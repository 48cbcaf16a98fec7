// µs per encode of the host's `execute` frame and per decode of an `execute_result` frame: the
// hand-written codec (packages/python-bridge/src/execute-frame-encoder.ts, frame-answer-decoder.ts)
// against protobuf-es `create` + `toBinary` / `fromBinary` on the same messages. A pool call's
// shape: a 100-byte string argument, the pool's call id and correlation id; and a 1 MiB binary
// argument. Rounds alternate the two; cells are medians. Not part of `pnpm bench`: a tool for
// codec work. `node bench/frame-codec.mjs`.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { toExecuteRequest, worker } from "@snakepit/python-bridge/internal";
import { frame } from "../packages/python-bridge/dist/contract.js";
import { ExecuteFrameEncoder } from "../packages/python-bridge/dist/execute-frame-encoder.js";
import { decodeFrame } from "../packages/python-bridge/dist/frame-answer-decoder.js";
import { median, quick } from "./load.mjs";

const correlationKey = "x-snakepit-correlation-id";
const opts = { callId: "3f1c9a4e-8a43-4e0b-9f0e-2b7c1d5e6f70", timeoutMs: 30_000 };
const metadata = { [correlationKey]: "0b6f1f5e-3c3a-4d87-9a41-7f7f2b0c9d11" };
const small = { value: "x".repeat(100) };
const large = { value: Buffer.alloc(1024 * 1024, 7) };

function protobufEs(args, callId) {
  const request = toExecuteRequest("echo", args, opts);
  return toBinary(
    frame.FrameSchema,
    create(frame.FrameSchema, { callId, body: { case: "execute", value: request }, metadata }),
  );
}
// The hand encoder writes into a sink (the frames client's FrameWriter); this one keeps a fresh
// region per frame, as the writer's arena does, and the chunks it is handed.
const encoder = new ExecuteFrameEncoder();
const sink = {
  buf: Buffer.allocUnsafeSlow(0),
  offset: 0,
  chunks: [],
  room(bytes) {
    if (this.buf.length - this.offset < bytes) {
      this.buf = Buffer.allocUnsafeSlow(Math.max(64 * 1024, bytes));
      this.offset = 0;
    }
    return this.buf;
  },
  commit(end) {
    this.offset = end;
  },
  pushChunk(chunk) {
    this.chunks.push(chunk);
  },
};
const hand = (args, callId) => {
  sink.chunks.length = 0;
  encoder.measure("echo", args, opts, undefined, metadata[correlationKey]);
  encoder.write(sink, callId);
  return sink.offset;
};

const result = toBinary(
  frame.FrameSchema,
  create(frame.FrameSchema, {
    callId: 123_456,
    body: {
      case: "executeResult",
      value: create(worker.ExecuteResponseSchema, {
        outcome: {
          case: "result",
          value: {
            contentType: "application/json",
            data: Buffer.from(JSON.stringify(small.value)),
          },
        },
        durationMs: 0.042,
      }),
    },
  }),
);
const received = Buffer.concat([Buffer.alloc(4), result]).subarray(4);

/** CPU µs (user + system: others' load on the machine disturbs it far less than wall time) per call of `f`, over `n` calls. */
function time(f, n) {
  let sink = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 1; i <= n; i++) sink += f(i) === undefined ? 0 : 1;
  const cpu = process.cpuUsage(cpu0);
  if (sink < 0) console.log(sink);
  return (cpu.user + cpu.system) / n;
}

const cases = {
  "encode execute, 100 B string": {
    "protobuf-es": (i) => protobufEs(small, i),
    hand: (i) => hand(small, i),
    n: 50_000,
  },
  "encode execute, 1 MiB binary": {
    "protobuf-es": (i) => protobufEs(large, i),
    hand: (i) => hand(large, i),
    n: 300,
  },
  "decode execute_result, 100 B JSON": {
    "protobuf-es": () => fromBinary(frame.FrameSchema, received),
    hand: () => decodeFrame(received),
    n: 100_000,
  },
};

const rounds = quick ? 2 : 7;
console.log("| | protobuf-es µs | hand µs | ratio |\n|---|---|---|---|");
for (const [name, c] of Object.entries(cases)) {
  const n = quick ? Math.ceil(c.n / 20) : c.n;
  time(c["protobuf-es"], n);
  time(c.hand, n);
  const pb = [];
  const hd = [];
  for (let r = 0; r < rounds; r++) {
    pb.push(time(c["protobuf-es"], n));
    hd.push(time(c.hand, n));
  }
  const [a, b] = [median(pb), median(hd)];
  console.log(`| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(1)}× |`);
}
