// For applications

export { bridgePythonDir, bridgeRequirementsFile } from "./bridge-paths.js";
export type { AdapterCheck } from "./check-adapter.js";
export { checkAdapter } from "./check-adapter.js";
export type { ConnectWorkerClientOptions } from "./connect-worker-client.js";
export { createConnectWorkerClient } from "./connect-worker-client.js";
export { metadataKeys } from "./contract.js";
// Fork server: fast worker start (for applications and the pool)
export type { ForkServer, StartForkServerOptions } from "./fork-server.js";
export { canFork, startForkServer } from "./fork-server.js";
export type { ForkWorkerOptions } from "./forked-worker.js";
export { mapGrpcError } from "./grpc-error.js";
export type { GrpcJsWorkerClientOptions } from "./grpc-js-worker-client.js";
// For other @snakepit packages
export { createGrpcJsWorkerClient } from "./grpc-js-worker-client.js";
export type {
  HostCallInfo,
  HostHandlers,
  HostServer,
  HostServerOptions,
  HostSessionRead,
} from "./host-server.js";
export { startHostServer } from "./host-server.js";
export { decodeArguments, decodePayload, encodeArguments, encodePayload } from "./payload-codec.js";
export type { PrivateDirectory } from "./private-directory.js";
export { createPrivateDirectory, removeStaleDirectories } from "./private-directory.js";
export type { PythonEnvironment, ResolvePythonOptions } from "./python-environment.js";
export { resolvePythonEnvironment } from "./python-environment.js";
export type {
  SpawnWorkerOptions,
  WorkerExit,
  WorkerHostHeartbeatOptions,
  WorkerProcess,
} from "./spawn-worker.js";
export { describeExit, killGroup, spawnWorker } from "./spawn-worker.js";
export type { PythonErrorDetails } from "./tool-error.js";
export type {
  ExecuteRpcOptions,
  RpcOptions,
  ToolDescription,
  ToolResult,
  WorkerClient,
} from "./worker-client.js";
