import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type CallOptions, Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { SnakepitError } from "@snakepit/errors";
import { cancelOnAbort } from "./cancel-on-abort.js";
import { limits, metadataKeys, worker } from "./contract.js";
import { mapGrpcError } from "./grpc-error.js";
import type { ExecuteRpcOptions, RpcOptions, ToolResult, WorkerClient } from "./worker-client.js";
import {
  streamChunks,
  toExecuteRequest,
  toExecuteStreamRequest,
  toToolDescriptions,
  toToolResult,
} from "./worker-messages.js";

/** Options of {@link createGrpcJsWorkerClient}. */
export interface GrpcJsWorkerClientOptions {
  /** The per-run secret sent as `x-snakepit-secret` (needed for loopback TCP workers). Default: none. */
  readonly secret?: string;
  /** Largest message in either direction, in bytes. Default: the contract's `limits.maxMessageBytes` (100 MiB, as the Python server). */
  readonly maxMessageBytes?: number;
}

type Method = { readonly name: string; readonly input: DescMessage; readonly output: DescMessage };

function path(method: Method): string {
  return `/${worker.WorkerService.typeName}/${method.name}`;
}
function serializer<D extends DescMessage>(schema: D) {
  return (message: MessageShape<D>) => Buffer.from(toBinary(schema, message));
}
function deserializer<D extends DescMessage>(schema: D) {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}

/**
 * A {@link WorkerClient} over `@grpc/grpc-js` with protobuf-es messages: one HTTP/2 channel for
 * the worker's lifetime, since opening a connection per call would add about 0.5 ms to each.
 */
export function createGrpcJsWorkerClient(
  address: string,
  options: GrpcJsWorkerClientOptions = {},
): WorkerClient {
  const maxBytes = options.maxMessageBytes ?? limits.maxMessageBytes;
  const client = new Client(address, credentials.createInsecure(), {
    "grpc.max_receive_message_length": maxBytes,
    "grpc.max_send_message_length": maxBytes,
    // Unix socket authorities are not host names; keep the :authority header well-formed.
    "grpc.default_authority": "localhost",
  });
  const methods = worker.WorkerService.method;

  function metadataFor(opts: RpcOptions | undefined): Metadata {
    const md = new Metadata();
    if (options.secret !== undefined) md.set(metadataKeys.secret, options.secret);
    if (opts?.correlationId !== undefined) md.set(metadataKeys.correlationId, opts.correlationId);
    if (opts?.metadata !== undefined)
      for (const [k, v] of Object.entries(opts.metadata)) md.set(k, v);
    return md;
  }
  function callOptions(opts: RpcOptions | undefined): CallOptions {
    return opts?.timeoutMs === undefined ? {} : { deadline: Date.now() + opts.timeoutMs };
  }

  function unary<I extends DescMessage, O extends DescMessage>(
    method: { name: string; input: I; output: O },
    request: MessageShape<I>,
    opts: RpcOptions | undefined,
    operation: string,
  ): Promise<MessageShape<O>> {
    const signal = opts?.signal;
    if (signal?.aborted)
      return Promise.reject(mapGrpcError(undefined, { operation, abortReason: signal.reason }));
    return new Promise((resolve, reject) => {
      const call = client.makeUnaryRequest(
        path(method),
        serializer(method.input),
        deserializer(method.output),
        request,
        metadataFor(opts),
        callOptions(opts),
        (err: ServiceError | null, response?: MessageShape<O>) => {
          stopWatching?.();
          if (err !== null || response === undefined)
            reject(
              mapGrpcError(err, {
                operation,
                abortReason: signal?.aborted ? signal.reason : undefined,
              }),
            );
          else resolve(response);
        },
      );
      const stopWatching = signal && cancelOnAbort(signal, () => call.cancel());
    });
  }

  return {
    address,
    ping(message = "", opts) {
      return unary(
        methods.ping,
        create(worker.PingRequestSchema, { message }),
        opts,
        `ping ${address}`,
      );
    },
    heartbeat(sequence, opts) {
      return unary(
        methods.heartbeat,
        create(worker.HeartbeatRequestSchema, { sequence }),
        opts,
        `heartbeat ${address}`,
      );
    },
    async describeTools(opts) {
      return toToolDescriptions(
        await unary(
          methods.describeTools,
          create(worker.DescribeToolsRequestSchema),
          opts,
          `describe tools of ${address}`,
        ),
      );
    },
    async execute<T>(
      tool: string,
      args: Readonly<Record<string, unknown>> | undefined,
      opts?: ExecuteRpcOptions,
    ): Promise<ToolResult<T>> {
      const request = toExecuteRequest(tool, args, opts, maxBytes);
      return toToolResult<T>(await unary(methods.execute, request, opts, `call "${tool}"`), tool);
    },
    executeStream<T>(
      tool: string,
      args: Readonly<Record<string, unknown>> | undefined,
      opts?: ExecuteRpcOptions,
    ): AsyncIterable<T> {
      const request = toExecuteStreamRequest(tool, args, opts, maxBytes);
      const operation = `stream "${tool}"`;
      const method = methods.executeStream;
      return {
        async *[Symbol.asyncIterator]() {
          const signal = opts?.signal;
          if (signal?.aborted)
            throw mapGrpcError(undefined, { operation, abortReason: signal.reason });
          const call = client.makeServerStreamRequest(
            path(method),
            serializer(method.input),
            deserializer(method.output),
            request,
            metadataFor(opts),
            callOptions(opts),
          );
          const stopWatching = signal && cancelOnAbort(signal, () => call.cancel());
          try {
            yield* streamChunks<T>(call as AsyncIterable<worker.ExecuteStreamResponse>, tool);
          } catch (err) {
            throw err instanceof SnakepitError
              ? err
              : mapGrpcError(err, {
                  operation,
                  abortReason: signal?.aborted ? signal.reason : undefined,
                });
          } finally {
            stopWatching?.();
            // Ends the RPC if the consumer stopped early (which closes the Python generator); a no-op once it ended.
            call.cancel();
          }
        },
      };
    },
    async shutdown(graceMs, opts) {
      await unary(
        methods.shutdown,
        create(worker.ShutdownRequestSchema, { graceMs }),
        opts,
        `shut down ${address}`,
      );
    },
    close() {
      client.close();
    },
  };
}
