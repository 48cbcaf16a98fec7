/**
 * Every code a {@link SnakepitError} can carry, in one closed union. Callers branch on
 * `err.code`, never on message text. Codes are stable API: renaming one is a breaking change.
 */
export const errorCodes = [
  // Options and input
  "INVALID_OPTIONS", // an option failed validation; the message names the option, rule and value
  "INVALID_ARGUMENTS", // tool arguments could not be encoded or were rejected by the tool's signature
  // Python environment and worker start
  "PYTHON_NOT_FOUND", // no usable Python interpreter
  "PYTHON_ENV_FAILED", // creating the venv or installing requirements failed
  "PYTHON_DEPENDENCY_MISSING", // the interpreter lacks grpcio/protobuf
  "ADAPTER_LOAD_FAILED", // the adapter module/class could not be imported or instantiated
  "WORKER_START_FAILED", // the worker exited or timed out before it was ready
  "WORKER_START_TIMEOUT", // the worker did not report readiness in time
  // Calls
  "TOOL_NOT_FOUND", // the adapter has no tool of that name
  "TOOL_ERROR", // the tool raised; `details` holds the Python type, message and traceback
  "CALL_TIMEOUT", // the call ran past its `timeoutMs`
  "ABORTED", // the caller's AbortSignal fired
  "WORKER_CRASHED", // the worker process exited while the call was running
  "WORKER_UNHEALTHY", // the worker was stopped after failed heartbeats or health checks
  "WORKER_STOPPED", // the worker was stopped (close, recycle) before the call could finish
  "TRANSPORT_ERROR", // gRPC failed in a way not covered above (message has the gRPC status)
  "PROTOCOL_ERROR", // a peer sent something the contract does not allow
  "PAYLOAD_TOO_LARGE", // an argument or result is over `maxMessageBytes`; `details` has `size` and `limit`
  "PROTOCOL_VERSION_MISMATCH", // the worker's snakepit_bridge speaks another protocol version than the host
  // Pool
  "POOL_CLOSED", // the pool is closing or closed and takes no new calls
  "QUEUE_FULL", // the bounded queue is full (`maxQueue`)
  "QUEUE_TIMEOUT", // the call waited longer than `queueTimeoutMs` for a worker
  "POOL_DEGRADED", // every worker is held out by the crash barrier
  "SESSION_BUSY", // strict-fail-fast affinity and the session's worker is busy
  "HOST_TOOL_NOT_FOUND", // Python called a host tool that is not registered
  "SESSION_STORE_UNAVAILABLE", // the session store (e.g. Redis) cannot be reached, refused us, or timed out
  "SESSION_CONFLICT", // a conditional session write lost: another call wrote the session since it was read
  // Processes and registry
  "KILL_FAILED", // a process could not be killed (EPERM, or still alive after SIGKILL)
  "PROCESS_NOT_FOUND", // a process identity could not be read
  "REGISTRY_IO", // the registry store could not be read or written
  "UNSUPPORTED_PLATFORM", // the operation has no implementation on this OS
  "REGISTRY_CLOSED", // the process registry was closed and takes no more records
  // Heartbeat
  "HEARTBEAT_FAILED", // the heartbeat monitor crossed its miss threshold
  "INTERNAL", // a bug in Snakepit: please report it
] as const;

/** A code a {@link SnakepitError} can carry. */
export type ErrorCode = (typeof errorCodes)[number];
