// For applications. Building blocks for other @snakepit packages: `@snakepit/python-bridge/internal`.
export type { BridgeSource } from "./bridge-location.js";
export { bridgePythonDir, bridgeRequirementsFile } from "./bridge-paths.js";
export type { ForkServer, StartForkServerOptions } from "./fork-server.js";
export { canFork, startForkServer } from "./fork-server.js";
export type { ForkWorkerOptions } from "./forked-worker.js";
export type { FramesWorkerClientOptions } from "./frames-worker-client.js";
export { createFramesWorkerClient } from "./frames-worker-client.js";
export type { GrpcJsWorkerClientOptions } from "./grpc-js-worker-client.js";
export { createGrpcJsWorkerClient } from "./grpc-js-worker-client.js";
export type {
  HostCallInfo,
  HostHandlers,
  HostServer,
  HostServerOptions,
  HostSessionRead,
} from "./host-server.js";
export { startHostServer } from "./host-server.js";
export type { PrivateDirectory } from "./private-directory.js";
export { createPrivateDirectory } from "./private-directory.js";
export type { PythonEnvironment, ResolvePythonOptions } from "./python-environment.js";
export { resolvePythonEnvironment } from "./python-environment.js";
export type {
  SpawnWorkerOptions,
  WorkerHostHeartbeatOptions,
  WorkerProcess,
} from "./spawn-worker.js";
export { spawnWorker } from "./spawn-worker.js";
export type { PythonErrorDetails } from "./tool-error.js";
export type { ProgressStream } from "./venv-progress.js";
export type {
  ExecuteRpcOptions,
  RpcOptions,
  ToolDescription,
  ToolResult,
  WorkerClient,
} from "./worker-client.js";
export type { WorkerExit } from "./worker-exit.js";
export type { WorkerLogRecord } from "./worker-handshake.js";
export type { WorkerTransport } from "./worker-transport.js";
