/**
 * `@snakepit/python-bridge/internal`: building blocks that other `@snakepit` packages (and this
 * repository's benchmarks) share. **Not semver**: any release may change or remove these exports.
 * Applications import `@snakepit/python-bridge`.
 *
 * @packageDocumentation
 */

// What `snakepit doctor` and `snakepit cleanup` run.
export type { AdapterCheck } from "./check-adapter.js";
export { checkAdapter } from "./check-adapter.js";
// The pieces of a WorkerClient, for another transport over the same contract (the benchmark's
// connect-node client): the service, its metadata keys, request and response mapping, errors.
export { metadataKeys, worker } from "./contract.js";
// Limits both sides of the bridge share (the pool validates its options against them).
export { limits } from "./gen/constants.js";
export type { GrpcErrorContext } from "./grpc-error.js";
export { mapGrpcError } from "./grpc-error.js";
export type { RemoveStaleDirectoriesOptions } from "./private-directory.js";
export { removeStaleDirectories } from "./private-directory.js";
export { describeExit } from "./worker-exit.js";
export {
  streamChunks,
  toExecuteRequest,
  toExecuteStreamRequest,
  toToolDescriptions,
  toToolResult,
} from "./worker-messages.js";
