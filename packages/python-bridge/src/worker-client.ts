import type { worker } from "./contract.js";

/** Per-RPC options every {@link WorkerClient} method takes. */
export interface RpcOptions {
  /** Cancels the RPC; the reason becomes the rejection (a `SnakepitError` reason is kept as is). */
  readonly signal?: AbortSignal;
  /** gRPC deadline from now, in milliseconds. Default: none. */
  readonly timeoutMs?: number;
  /** Sent as `x-snakepit-correlation-id`. */
  readonly correlationId?: string;
  /** Extra gRPC metadata (e.g. W3C `traceparent`/`tracestate`). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Options of {@link WorkerClient.execute} and {@link WorkerClient.executeStream}. */
export interface ExecuteRpcOptions extends RpcOptions {
  /** The host's id of this call. */
  readonly callId?: string;
  /** The user's session id, for session state in Python. */
  readonly sessionId?: string;
  /** Free-form string metadata passed to the tool (`current_call().metadata`). */
  readonly callMetadata?: Readonly<Record<string, string>>;
}

/** A tool's result, decoded. */
export interface ToolResult<T = unknown> {
  /** The value the tool returned: JSON as a value, bytes as a `Uint8Array`, `None` as `null`. */
  readonly value: T;
  /** Wall time spent in Python, in milliseconds. */
  readonly durationMs: number;
}

/** A tool as the worker describes it. */
export interface ToolDescription {
  readonly name: string;
  readonly description: string;
  readonly streaming: boolean;
  readonly isAsync: boolean;
  readonly parameters: readonly {
    readonly name: string;
    readonly type: string;
    readonly required: boolean;
    readonly defaultValue: unknown;
    readonly description: string;
  }[];
}

/**
 * A client for one worker's `WorkerService`. Transports implement it (grpc-js is the default,
 * chosen by measurement; see docs/architecture.md). Every method rejects with a
 * `SnakepitError`; tool exceptions come back as `TOOL_ERROR` with the Python details.
 */
export interface WorkerClient {
  /** The address the client talks to (`unix:/...` or `127.0.0.1:port`). */
  readonly address: string;
  ping(message?: string, options?: RpcOptions): Promise<worker.PingResponse>;
  heartbeat(sequence: bigint, options?: RpcOptions): Promise<worker.HeartbeatResponse>;
  describeTools(options?: RpcOptions): Promise<ToolDescription[]>;
  execute<T = unknown>(
    tool: string,
    args: Readonly<Record<string, unknown>> | undefined,
    options?: ExecuteRpcOptions,
  ): Promise<ToolResult<T>>;
  /**
   * Streams a generator tool's chunks. Reading applies backpressure; breaking out of the loop
   * or aborting cancels the RPC, which closes the generator in Python.
   */
  executeStream<T = unknown>(
    tool: string,
    args: Readonly<Record<string, unknown>> | undefined,
    options?: ExecuteRpcOptions,
  ): AsyncIterable<T>;
  /** Asks the worker to finish in-flight calls (at most `graceMs`), clean up and exit. */
  shutdown(graceMs: number, options?: RpcOptions): Promise<void>;
  /** Closes the channel. In-flight RPCs fail. Idempotent. */
  close(): void;
}
