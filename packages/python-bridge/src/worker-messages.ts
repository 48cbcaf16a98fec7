import { create } from "@bufbuild/protobuf";
import { SnakepitError } from "@snakepit/errors";
import { type Arguments, type CallContext, CallContextSchema, worker } from "./contract.js";
import { decodePayload, encodeArguments } from "./payload-codec.js";
import { toolErrorToSnakepitError } from "./tool-error.js";
import type { ExecuteRpcOptions, ToolDescription, ToolResult } from "./worker-client.js";

// Request building and response handling shared by every WorkerClient transport.

/** A `DescribeToolsResponse` as {@link ToolDescription}s. */
export function toToolDescriptions(res: worker.DescribeToolsResponse): ToolDescription[] {
  return res.tools.map((t) => ({
    name: t.name,
    description: t.description,
    streaming: t.streaming,
    isAsync: t.isAsync,
    parameters: t.parameters.map((p) => ({
      name: p.name,
      type: p.type,
      required: p.required,
      defaultValue: p.defaultValue === undefined ? undefined : decodePayload(p.defaultValue),
      description: p.description,
    })),
  }));
}

/** The value of an `ExecuteResponse`, or its tool error thrown as a `SnakepitError`. */
export function toToolResult<T>(res: worker.ExecuteResponse, tool: string): ToolResult<T> {
  if (res.outcome.case === "error") throw toolErrorToSnakepitError(res.outcome.value, tool);
  return { value: decodePayload(res.outcome.value) as T, durationMs: res.durationMs };
}

/** Yields the chunks of an `ExecuteStream` response stream; throws its tool error; checks the end marker. */
export async function* streamChunks<T>(
  messages: AsyncIterable<worker.ExecuteStreamResponse>,
  tool: string,
): AsyncGenerator<T, void, undefined> {
  for await (const message of messages) {
    const event = message.event;
    if (event.case === "chunk") yield decodePayload(event.value) as T;
    else if (event.case === "error") throw toolErrorToSnakepitError(event.value, tool);
    else if (event.case === "end") return;
  }
  throw new SnakepitError(
    "PROTOCOL_ERROR",
    `stream "${tool}": the worker closed the stream without an end marker`,
  );
}

/** The `CallContext` of an execution. */
export function toCallContext(opts: ExecuteRpcOptions | undefined): CallContext {
  return create(CallContextSchema, {
    callId: opts?.callId ?? "",
    sessionId: opts?.sessionId ?? "",
    timeoutMs: opts?.timeoutMs ?? 0,
    metadata: { ...opts?.callMetadata },
  });
}

/**
 * The `ExecuteRequest` (or `ExecuteStreamRequest`) of a call: arguments encoded, context attached.
 * Throws `PAYLOAD_TOO_LARGE` (before the message is built) when the encoded arguments alone are
 * over `maxBytes`.
 */
export function toExecuteRequest(
  tool: string,
  args: Readonly<Record<string, unknown>> | undefined,
  opts: ExecuteRpcOptions | undefined,
  maxBytes = Number.POSITIVE_INFINITY,
): worker.ExecuteRequest {
  return create(worker.ExecuteRequestSchema, executeFields(tool, args, opts, maxBytes));
}

/** See {@link toExecuteRequest}. */
export function toExecuteStreamRequest(
  tool: string,
  args: Readonly<Record<string, unknown>> | undefined,
  opts: ExecuteRpcOptions | undefined,
  maxBytes = Number.POSITIVE_INFINITY,
): worker.ExecuteStreamRequest {
  return create(worker.ExecuteStreamRequestSchema, executeFields(tool, args, opts, maxBytes));
}

/** The fields both request messages share. */
function executeFields(
  tool: string,
  args: Readonly<Record<string, unknown>> | undefined,
  opts: ExecuteRpcOptions | undefined,
  maxBytes: number,
) {
  const encoded = encodeArguments(args);
  if (maxBytes !== Number.POSITIVE_INFINITY) checkSize(tool, encoded, maxBytes);
  return { tool, arguments: encoded, context: toCallContext(opts) };
}

/** `PAYLOAD_TOO_LARGE` when a call's encoded arguments are over the message limit. */
function checkSize(tool: string, args: Arguments, limit: number): void {
  let size = args.json?.data.length ?? 0;
  for (const key in args.binary) size += (args.binary[key] as Uint8Array).length + key.length;
  checkArgumentsSize(tool, size, limit);
}

/**
 * `PAYLOAD_TOO_LARGE` when `size` (the JSON bytes of a call's arguments, plus each binary
 * argument's bytes and name length) is over `limit`.
 */
export function checkArgumentsSize(tool: string, size: number, limit: number): void {
  if (size > limit)
    throw new SnakepitError(
      "PAYLOAD_TOO_LARGE",
      `The arguments of "${tool}" are ${size} bytes, over the ${limit}-byte message limit (\`maxMessageBytes\`)`,
      { details: { size, limit, tool } },
    );
}
