// The generated contract, wrapped: the rest of the package imports messages and services
// from here, never from ./gen directly (STYLE 5).

// Error codes, metadata keys, environment variables and limits shared with Python, generated from
// proto/snakepit/bridge/v1/constants.json (the Python side gets the same values).
export {
  environmentVariables,
  hostToolErrorCodes,
  limits,
  metadataKeys,
  sessionErrorCodes,
  startupErrorCodes,
  toolErrorCodes,
} from "./gen/constants.js";
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
export * as frame from "./gen/snakepit/bridge/v1/frame_pb.js";
export * as host from "./gen/snakepit/bridge/v1/host_pb.js";
export * as worker from "./gen/snakepit/bridge/v1/worker_pb.js";

/** Content types a {@link Payload} may declare. */
export const contentTypes = {
  json: "application/json",
  bytes: "application/octet-stream",
  none: "",
} as const;
