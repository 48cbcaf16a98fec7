import { create } from "@bufbuild/protobuf";
import { SnakepitError } from "@snakepit/errors";
import { type CallContext, CallContextSchema, worker } from "./contract.js";
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

/** The `ExecuteRequest` (or `ExecuteStreamRequest`) of a call: arguments encoded, context attached. */
export function toExecuteRequest(
  tool: string,
  args: Readonly<Record<string, unknown>> | undefined,
  opts: ExecuteRpcOptions | undefined,
): worker.ExecuteRequest {
  return create(worker.ExecuteRequestSchema, executeFields(tool, args, opts));
}

/** See {@link toExecuteRequest}. */
export function toExecuteStreamRequest(
  tool: string,
  args: Readonly<Record<string, unknown>> | undefined,
  opts: ExecuteRpcOptions | undefined,
): worker.ExecuteStreamRequest {
  return create(worker.ExecuteStreamRequestSchema, executeFields(tool, args, opts));
}

/** The fields both request messages share. */
function executeFields(
  tool: string,
  args: Readonly<Record<string, unknown>> | undefined,
  opts: ExecuteRpcOptions | undefined,
) {
  return { tool, arguments: encodeArguments(args), context: toCallContext(opts) };
}
