import { setMaxListeners } from "node:events";
import { connect } from "node:net";
import { type CallOptions, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SnakepitError } from "@snakepit/errors";
import { metadataKeys, worker } from "./contract.js";
import { mapGrpcError } from "./grpc-error.js";
import type { ExecuteRpcOptions, RpcOptions, ToolResult, WorkerClient } from "./worker-client.js";
import {
  streamChunks,
  toExecuteRequest,
  toExecuteStreamRequest,
  toToolDescriptions,
  toToolResult,
} from "./worker-messages.js";

/** Options of {@link createConnectWorkerClient}. */
export interface ConnectWorkerClientOptions {
  /** The per-run secret sent as `x-snakepit-secret`. Default: none. */
  readonly secret?: string;
}

/**
 * A {@link WorkerClient} over the `@connectrpc/connect-node` gRPC transport. Measured slower
 * per call than grpc-js on this kind of machine (docs/architecture.md), so it is not the
 * default; it stays as the second implementation of the transport interface and the baseline
 * of `bench/transport.mjs`.
 */
export function createConnectWorkerClient(
  address: string,
  options: ConnectWorkerClientOptions = {},
): WorkerClient {
  const unixPath = address.startsWith("unix:") ? address.slice("unix:".length) : undefined;
  const transport = createGrpcTransport({
    baseUrl: unixPath === undefined ? `http://${address}` : "http://localhost",
    ...(unixPath === undefined
      ? {}
      : { nodeOptions: { createConnection: () => connect(unixPath) } }),
  });
  const client = createClient(worker.WorkerService, transport);
  const closer = new AbortController();
  // Every in-flight call listens on it; concurrency 64 is normal, not a leak.
  setMaxListeners(0, closer.signal);

  function callOptions(opts: RpcOptions | undefined): CallOptions {
    const headers: Record<string, string> = { ...opts?.metadata };
    if (options.secret !== undefined) headers[metadataKeys.secret] = options.secret;
    if (opts?.correlationId !== undefined) headers[metadataKeys.correlationId] = opts.correlationId;
    const signal =
      opts?.signal === undefined ? closer.signal : AbortSignal.any([opts.signal, closer.signal]);
    return {
      headers,
      signal,
      ...(opts?.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    };
  }
  async function guard<T>(
    operation: string,
    opts: RpcOptions | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toError(err, operation, opts);
    }
  }
  function toError(err: unknown, operation: string, opts: RpcOptions | undefined): SnakepitError {
    if (err instanceof SnakepitError) return err;
    const abortReason = opts?.signal?.aborted ? opts.signal.reason : undefined;
    const e = err instanceof ConnectError ? { code: err.code, details: err.rawMessage } : err;
    return mapGrpcError(e, { operation, abortReason });
  }

  return {
    address,
    ping(message = "", opts) {
      return guard(`ping ${address}`, opts, () => client.ping({ message }, callOptions(opts)));
    },
    heartbeat(sequence, opts) {
      return guard(`heartbeat ${address}`, opts, () =>
        client.heartbeat({ sequence }, callOptions(opts)),
      );
    },
    describeTools(opts) {
      return guard(`describe tools of ${address}`, opts, async () =>
        toToolDescriptions(await client.describeTools({}, callOptions(opts))),
      );
    },
    execute<T>(
      tool: string,
      args: Readonly<Record<string, unknown>> | undefined,
      opts?: ExecuteRpcOptions,
    ): Promise<ToolResult<T>> {
      const request = toExecuteRequest(tool, args, opts);
      return guard(`call "${tool}"`, opts, async () =>
        toToolResult<T>(await client.execute(request, callOptions(opts)), tool),
      );
    },
    executeStream<T>(
      tool: string,
      args: Readonly<Record<string, unknown>> | undefined,
      opts?: ExecuteRpcOptions,
    ): AsyncIterable<T> {
      const request = toExecuteStreamRequest(tool, args, opts);
      return {
        async *[Symbol.asyncIterator]() {
          try {
            yield* streamChunks<T>(client.executeStream(request, callOptions(opts)), tool);
          } catch (err) {
            throw toError(err, `stream "${tool}"`, opts);
          }
        },
      };
    },
    async shutdown(graceMs, opts) {
      await guard(`shut down ${address}`, opts, () =>
        client.shutdown({ graceMs }, callOptions(opts)),
      );
    },
    close() {
      closer.abort(new SnakepitError("WORKER_STOPPED", `The client of ${address} was closed`));
    },
  };
}
