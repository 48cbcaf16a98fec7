import type { Socket } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { SnakepitError } from "@snakepit/errors";
import { CallTable } from "./call-table.js";
import { frame, worker } from "./contract.js";
import { DeadlineTimer } from "./deadline-timer.js";
import { ExecuteFrameEncoder } from "./execute-frame-encoder.js";
import { decodeFrame } from "./frame-answer-decoder.js";
import { abortError, callFailed, isAnswer } from "./frame-call-errors.js";
import { FrameDecoder } from "./frame-decoder.js";
import { FrameWriter } from "./frame-writer.js";
import { decodePayload } from "./payload-codec.js";
import { toolErrorToSnakepitError } from "./tool-error.js";
import type { ExecuteRpcOptions, RpcOptions, ToolResult, WorkerClient } from "./worker-client.js";
import { toExecuteStreamRequest, toToolDescriptions, toToolResult } from "./worker-messages.js";

/** Options of {@link createFramesWorkerClient}. */
export interface FramesWorkerClientOptions {
  /** Largest frame in either direction, in bytes (the worker's `--max-message-bytes`). Default 100 MiB. */
  readonly maxMessageBytes?: number;
  /** Chunks a stream may send ahead of the consumer (the credit window). Default 16. */
  readonly streamWindow?: number;
  /** A name for error messages, e.g. the worker id. Default `"worker"`. */
  readonly label?: string;
}

type Body = frame.Frame["body"];
type Answer = Exclude<Body["case"], undefined>;

/** One call in flight on the connection. */
interface Call {
  readonly id: number;
  /** The answer kind that ends it (`stream_event` for streams). */
  readonly answer: Answer;
  /** What it is, for error messages: `"call"` for an execute call (see {@link operationOf}). */
  readonly operation: string;
  /** `performance.now()` deadline, 0 for none. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  /** Execute calls: the tool, whose `ToolResult` the answer becomes (or its tool error). */
  readonly tool: string | undefined;
  resolve(value: unknown): void;
  reject(error: SnakepitError): void;
  /** Streams only: received events and the consumer's wake-up. */
  readonly events: worker.ExecuteStreamResponse[] | undefined;
  wake?: (() => void) | undefined;
  failure?: SnakepitError | undefined;
}

const MiB = 1024 * 1024;
const noop = () => undefined;

/** A call as error messages name it (built only for an error: not a string per call). */
function operationOf(call: Call): string {
  return call.tool === undefined ? call.operation : `${call.operation} "${call.tool}"`;
}

/**
 * A {@link WorkerClient} over the frames transport: protobuf `Frame`s, length-prefixed, on the
 * worker's private socket (an inherited socketpair end; see frame.proto). Calls are multiplexed
 * by call id; writes are coalesced per tick; cancellation (abort, deadline, a stream left early)
 * sends a `cancel` frame, which sets the call's `cancelled` event in Python. Deadlines share one
 * timer and signals one listener each, whatever the number of calls. A malformed, truncated or
 * oversized frame closes the connection: every call on it fails with `PROTOCOL_ERROR` (the
 * worker, seeing EOF, exits and is replaced); a connection that closes under calls fails them
 * with `TRANSPORT_ERROR`.
 */
export function createFramesWorkerClient(
  socket: Socket,
  options: FramesWorkerClientOptions = {},
): WorkerClient {
  const maxBytes = options.maxMessageBytes ?? 100 * MiB;
  const window = options.streamWindow ?? 16;
  const label = options.label ?? "worker";
  const address = `frames:${label}`;
  const calls = new CallTable<Call>();
  // Signals with this client's abort listener on them: one listener per signal, however many
  // calls share it (a pool passes its worker's signal with every call that has none of its own).
  const watched = new WeakSet<AbortSignal>();
  const writer = new FrameWriter(socket);
  const encoder = new ExecuteFrameEncoder();
  let closed: SnakepitError | undefined;
  const deadlines = new DeadlineTimer(expire);

  const decoder = new FrameDecoder(maxBytes, onFrame);
  socket.on("data", (chunk: Buffer) => {
    try {
      decoder.push(chunk);
    } catch (err) {
      fail(SnakepitError.from(err, "PROTOCOL_ERROR"));
    }
  });
  socket.on("error", noop);
  socket.on("close", () => {
    fail(
      decoder.partial
        ? new SnakepitError(
            "PROTOCOL_ERROR",
            `The frames connection to ${label} ended inside a frame`,
          )
        : new SnakepitError(
            "TRANSPORT_ERROR",
            `The frames connection to ${label} closed (the worker exited or closed it)`,
          ),
    );
  });
  socket.unref();

  /** Closes the connection for good: every call fails with `error` (the first reason wins). */
  function fail(error: SnakepitError): void {
    if (closed !== undefined) return;
    closed = error;
    deadlines.clear();
    socket.destroy();
    for (const call of calls.values()) settle(call, error);
  }

  function send(
    body: Body,
    callId: number,
    metadata?: Readonly<Record<string, string>>,
    correlationId = "",
  ): void {
    const message = create(frame.FrameSchema, { callId, body, metadata, correlationId });
    writer.push(toBinary(frame.FrameSchema, message));
  }

  function onFrame(bytes: Uint8Array): void {
    let message: frame.Frame;
    try {
      message = decodeFrame(bytes);
    } catch (cause) {
      throw new SnakepitError("PROTOCOL_ERROR", `${label} sent a frame that does not parse`, {
        cause,
      });
    }
    const call = calls.get(message.callId);
    const body = message.body;
    if (call === undefined) {
      // Answers of calls the host has given up on (cancelled, timed out) are dropped.
      if (body.case === undefined || !isAnswer(body.case))
        throw new SnakepitError("PROTOCOL_ERROR", `${label} sent an unexpected frame`, {
          details: { kind: body.case ?? "none", callId: message.callId },
        });
      return;
    }
    if (body.case === "failed") {
      settle(call, callFailed(body.value, operationOf(call)));
      return;
    }
    if (body.case !== call.answer)
      throw new SnakepitError(
        "PROTOCOL_ERROR",
        `${label} answered ${operationOf(call)} with a "${body.case ?? "empty"}" frame`,
      );
    if (body.case === "streamEvent") {
      call.events?.push(body.value);
      const event = body.value.event.case;
      if (event !== "chunk") forget(call);
      call.wake?.();
      return;
    }
    forget(call);
    if (call.tool === undefined) call.resolve(body.value);
    else {
      let result: ToolResult<unknown>;
      try {
        result = toToolResult(body.value as worker.ExecuteResponse, call.tool);
      } catch (err) {
        call.reject(SnakepitError.from(err));
        return;
      }
      call.resolve(result);
    }
  }

  /** Registers a call: id, deadline, signal. The caller has checked `closed` and the signal. */
  function register(
    answer: Answer,
    operation: string,
    opts: RpcOptions | undefined,
    resolve: (value: unknown) => void,
    reject: (error: SnakepitError) => void,
    stream: boolean,
    tool?: string,
  ): Call {
    const timeoutMs = opts?.timeoutMs;
    const deadline = timeoutMs === undefined || timeoutMs <= 0 ? 0 : performance.now() + timeoutMs;
    const call: Call = {
      id: calls.nextId(),
      answer,
      operation,
      deadline,
      signal: opts?.signal,
      tool,
      resolve,
      reject,
      events: stream ? [] : undefined,
      wake: undefined,
      failure: undefined,
    };
    if (calls.size === 0) socket.ref();
    calls.add(call);
    if (deadline > 0) deadlines.schedule(deadline);
    const signal = opts?.signal;
    if (signal !== undefined) watch(signal);
    return call;
  }

  /** The call is over on the wire: no more frames are expected for it. */
  function forget(call: Call): void {
    if (!calls.delete(call)) return;
    if (calls.size === 0) socket.unref();
  }

  /** Ends a call with `error`, telling the worker to stop it if it is still running there. */
  function settle(call: Call, error: SnakepitError): void {
    if (calls.includes(call) && closed === undefined)
      send({ case: "cancel", value: create(frame.CancelCallSchema) }, call.id);
    forget(call);
    if (call.events !== undefined) {
      call.failure ??= error;
      call.wake?.();
    } else call.reject(error);
  }

  /**
   * Listens for `signal` once. Its calls are not listed per signal: an abort, rare, walks the
   * table instead, so a call costs no set of its own nor an entry in a shared one (see CallTable
   * for what a long-lived set costs).
   */
  function watch(signal: AbortSignal): void {
    if (watched.has(signal)) return;
    watched.add(signal);
    signal.addEventListener(
      "abort",
      () => {
        for (const c of calls.values())
          if (c.signal === signal) settle(c, abortError(signal.reason, operationOf(c)));
      },
      { once: true },
    );
  }

  /** Ends the calls whose deadline has passed; returns the earliest deadline still pending (0: none). */
  function expire(now: number): number {
    let next = 0;
    for (const call of calls.values()) {
      if (call.deadline === 0) continue;
      if (call.deadline <= now + 1)
        settle(
          call,
          new SnakepitError("CALL_TIMEOUT", `${operationOf(call)} ran past its deadline`, {
            details: { deadlineExceeded: true },
          }),
        );
      else if (next === 0 || call.deadline < next) next = call.deadline;
    }
    return next;
  }

  function unary<T>(
    body: Body,
    answer: Answer,
    operation: string,
    opts: RpcOptions | undefined,
  ): Promise<T> {
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason, operation));
    if (closed !== undefined) return Promise.reject(closed);
    return new Promise<T>((resolve, reject) => {
      const call = register(
        answer,
        operation,
        opts,
        resolve as (v: unknown) => void,
        reject,
        false,
      );
      send(body, call.id);
    });
  }

  return {
    address,
    ping(message = "", opts) {
      return unary(
        { case: "ping", value: create(worker.PingRequestSchema, { message }) },
        "pong",
        `ping ${label}`,
        opts,
      );
    },
    heartbeat(sequence, opts) {
      return unary(
        { case: "heartbeat", value: create(worker.HeartbeatRequestSchema, { sequence }) },
        "heartbeatAck",
        `heartbeat ${label}`,
        opts,
      );
    },
    async describeTools(opts) {
      return toToolDescriptions(
        await unary<worker.DescribeToolsResponse>(
          { case: "describeTools", value: create(worker.DescribeToolsRequestSchema) },
          "tools",
          `describe tools of ${label}`,
          opts,
        ),
      );
    },
    execute<T>(
      tool: string,
      args: Readonly<Record<string, unknown>> | undefined,
      opts?: ExecuteRpcOptions,
    ): Promise<ToolResult<T>> {
      // Checked and sized first (a bad argument fails before anything else), written once the
      // call has its id: straight into the writer's buffer, no message objects in between.
      try {
        encoder.measure(tool, args, opts, opts?.metadata, opts?.correlationId, maxBytes);
      } catch (err) {
        return Promise.reject(err);
      }
      const signal = opts?.signal;
      if (signal?.aborted) return Promise.reject(abortError(signal.reason, `call "${tool}"`));
      if (closed !== undefined) return Promise.reject(closed);
      return new Promise<ToolResult<T>>((resolve, reject) => {
        const call = register(
          "executeResult",
          "call",
          opts,
          resolve as (v: unknown) => void,
          reject,
          false,
          tool,
        );
        encoder.write(writer, call.id);
      });
    },
    executeStream<T>(
      tool: string,
      args: Readonly<Record<string, unknown>> | undefined,
      opts?: ExecuteRpcOptions,
    ): AsyncIterable<T> {
      const operation = `stream "${tool}"`;
      return {
        async *[Symbol.asyncIterator]() {
          const signal = opts?.signal;
          if (signal?.aborted) throw abortError(signal.reason, operation);
          if (closed !== undefined) throw closed;
          const request = toExecuteStreamRequest(tool, args, opts, maxBytes);
          const call = register("streamEvent", operation, opts, noop, noop, true);
          send(
            { case: "executeStream", value: request },
            call.id,
            opts?.metadata,
            opts?.correlationId,
          );
          send(
            { case: "credit", value: create(frame.StreamCreditSchema, { chunks: window }) },
            call.id,
          );
          const events = call.events as worker.ExecuteStreamResponse[];
          let consumed = 0;
          try {
            for (;;) {
              const message = events.shift();
              if (message === undefined) {
                if (call.failure !== undefined) throw call.failure;
                if (!calls.includes(call))
                  throw new SnakepitError(
                    "PROTOCOL_ERROR",
                    `${operation}: the worker closed the stream without an end marker`,
                  );
                await new Promise<void>((resolve) => {
                  call.wake = resolve;
                });
                call.wake = undefined;
                continue;
              }
              const event = message.event;
              if (event.case === "chunk") {
                // Credit goes back in batches of half the window, not one frame per chunk.
                if (++consumed >= window / 2 && calls.includes(call)) {
                  send(
                    {
                      case: "credit",
                      value: create(frame.StreamCreditSchema, { chunks: consumed }),
                    },
                    call.id,
                  );
                  consumed = 0;
                }
                yield decodePayload(event.value) as T;
              } else if (event.case === "error") throw toolErrorToSnakepitError(event.value, tool);
              else if (event.case === "end") return;
            }
          } finally {
            // The consumer left early (break, throw, abort): cancel, which closes the generator in Python.
            if (calls.includes(call)) settle(call, abortError(undefined, operation));
          }
        },
      };
    },
    async shutdown(graceMs, opts) {
      await unary(
        { case: "shutdown", value: create(worker.ShutdownRequestSchema, { graceMs }) },
        "shutdownDone",
        `shut down ${label}`,
        opts,
      );
    },
    close() {
      fail(new SnakepitError("TRANSPORT_ERROR", `The frames client of ${label} was closed`));
    },
  };
}
