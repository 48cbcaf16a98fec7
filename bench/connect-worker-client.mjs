// A WorkerClient over the `@connectrpc/connect-node` gRPC transport: the baseline that
// `bench/transport.mjs` measures grpc-js (the package's client) against. It lives here, not in
// @snakepit/python-bridge, so the package does not ship connect-node at run time for it.
import { setMaxListeners } from "node:events";
import { connect } from "node:net";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SnakepitError } from "@snakepit/pool";
import {
  mapGrpcError,
  metadataKeys,
  streamChunks,
  toExecuteRequest,
  toExecuteStreamRequest,
  toToolDescriptions,
  toToolResult,
  worker,
} from "@snakepit/python-bridge/internal";

/**
 * A `WorkerClient` (the interface of `@snakepit/python-bridge`) over connect-node. Measured
 * slower per call than grpc-js on this kind of machine (docs/architecture.md).
 *
 * @param {string} address `unix:/path.sock` or `host:port`
 * @param {{ secret?: string }} [options] the per-run secret sent as `x-snakepit-secret`
 * @returns {import("@snakepit/python-bridge").WorkerClient}
 */
export function createConnectWorkerClient(address, options = {}) {
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

  function callOptions(opts) {
    const headers = { ...opts?.metadata };
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
  async function guard(operation, opts, fn) {
    try {
      return await fn();
    } catch (err) {
      throw toError(err, operation, opts);
    }
  }
  function toError(err, operation, opts) {
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
    execute(tool, args, opts) {
      const request = toExecuteRequest(tool, args, opts);
      return guard(`call "${tool}"`, opts, async () =>
        toToolResult(await client.execute(request, callOptions(opts)), tool),
      );
    },
    executeStream(tool, args, opts) {
      const request = toExecuteStreamRequest(tool, args, opts);
      return {
        async *[Symbol.asyncIterator]() {
          try {
            yield* streamChunks(client.executeStream(request, callOptions(opts)), tool);
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
