// The generated contract, wrapped: the rest of the package imports messages and services
// from here, never from ./gen directly (STYLE 5).
export {
  type Arguments,
  ArgumentsSchema,
  type CallContext,
  CallContextSchema,
  type Payload,
  PayloadSchema,
  type ToolError,
  ToolErrorSchema,
} from "./gen/snakepit/bridge/v1/common_pb.js";
export * as host from "./gen/snakepit/bridge/v1/host_pb.js";
export * as worker from "./gen/snakepit/bridge/v1/worker_pb.js";

/** gRPC metadata keys of the contract (see proto/snakepit/bridge/v1/common.proto). */
export const metadataKeys = {
  correlationId: "x-snakepit-correlation-id",
  /** Trailing metadata of a failed host-service call: the Snakepit error code. */
  errorCode: "x-snakepit-error-code",
  traceparent: "traceparent",
  tracestate: "tracestate",
  secret: "x-snakepit-secret",
  workerId: "x-snakepit-worker-id",
} as const;

/** Content types a {@link Payload} may declare. */
export const contentTypes = {
  json: "application/json",
  bytes: "application/octet-stream",
  none: "",
} as const;
