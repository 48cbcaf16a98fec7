import type { Socket } from "node:net";
import { SnakepitError } from "@snakepit/errors";
import { createFramesWorkerClient } from "./frames-worker-client.js";
import { createGrpcJsWorkerClient } from "./grpc-js-worker-client.js";
import type { WorkerClient } from "./worker-client.js";

/**
 * How the host talks to a worker. `frames`: protobuf frames over an inherited socketpair (fd 4),
 * nothing on the filesystem and no gRPC on the hot path. `grpc`: the worker's gRPC server on
 * `listen` (a 0600 Unix socket, or loopback TCP with the per-run secret). See docs/architecture.md.
 */
export type WorkerTransport = "frames" | "grpc";

/** What the worker's client is made from, once it reported ready. */
export interface WorkerClientSource {
  readonly workerId: string;
  readonly transport?: WorkerTransport | undefined;
  readonly secret?: string | undefined;
  readonly maxMessageBytes?: number | undefined;
}

/** Throws `INVALID_OPTIONS` when the transport and `listen` do not fit together. */
export function checkTransport(o: { transport?: unknown; listen?: unknown }): void {
  const transport = o.transport ?? "grpc";
  if (transport !== "frames" && transport !== "grpc")
    throw new SnakepitError(
      "INVALID_OPTIONS",
      `Expected \`transport\` to be "frames" or "grpc", got \`${String(transport)}\` (${typeof transport})`,
    );
  if (transport === "grpc" && typeof o.listen !== "string")
    throw new SnakepitError(
      "INVALID_OPTIONS",
      `Expected \`listen\` to be a string (unix:/path or 127.0.0.1:0) with transport "grpc", got \`${String(o.listen)}\``,
    );
}

/** The worker's client: frames over `framesSocket`, or gRPC to the address it reported. */
export function createWorkerClient(
  o: WorkerClientSource,
  address: string,
  framesSocket: Socket | undefined,
): WorkerClient {
  const limit = o.maxMessageBytes === undefined ? {} : { maxMessageBytes: o.maxMessageBytes };
  if (o.transport === "frames") {
    if (framesSocket === undefined)
      throw new SnakepitError("INTERNAL", `Worker ${o.workerId} has no frames socket`);
    return createFramesWorkerClient(framesSocket, { ...limit, label: o.workerId });
  }
  return createGrpcJsWorkerClient(address, {
    ...limit,
    ...(o.secret === undefined ? {} : { secret: o.secret }),
  });
}
