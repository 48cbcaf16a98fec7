import { chmod } from "node:fs/promises";
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import {
  status as grpcStatus,
  type handleUnaryCall,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type StatusObject,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { SnakepitError } from "@snakepit/errors";
import { host, limits, metadataKeys } from "./contract.js";
import { decodeArguments, decodePayload, encodePayload } from "./payload-codec.js";
import { errorToToolError } from "./tool-error.js";

/** Who is calling the host service, from the call's metadata. */
export interface HostCallInfo {
  /** The calling worker (`x-snakepit-worker-id`). */
  readonly workerId: string;
  /** The correlation id of the Python call that made this call, if any. */
  readonly correlationId: string | undefined;
}

/** What the host service does; the pool provides it. Errors thrown here reach Python as `ToolError`s. */
export interface HostHandlers {
  /** A worker's dependent heartbeat. Returns false when the host no longer knows the worker. */
  heartbeat(info: HostCallInfo): boolean;
  /** Reads session state; `knownVersion` lets it answer `unchanged` without values. */
  getSessionState(
    sessionId: string,
    keys: readonly string[],
    info: HostCallInfo & { readonly knownVersion: number | undefined },
  ): Promise<HostSessionRead> | HostSessionRead;
  /** Writes session state (conditionally with `ifVersion`); returns the new version. */
  setSessionState(
    sessionId: string,
    values: Readonly<Record<string, unknown>>,
    info: HostCallInfo & { readonly ifVersion: number | undefined },
  ): Promise<number> | number;
  /** Deletes session keys (conditionally with `ifVersion`); returns the new version. */
  deleteSessionState(
    sessionId: string,
    keys: readonly string[],
    info: HostCallInfo & { readonly ifVersion: number | undefined },
  ): Promise<number> | number;
  callHostTool(
    tool: string,
    args: Record<string, unknown>,
    context: HostCallInfo & { readonly sessionId: string },
  ): Promise<unknown>;
}

/** A session read as the host service answers it. */
export interface HostSessionRead {
  /** The session's version (0: no such session). */
  readonly version: number;
  /** The values read; ignored when `unchanged`. */
  readonly values: Readonly<Record<string, unknown>>;
  /** True when the session is still at the caller's `knownVersion`. */
  readonly unchanged?: boolean;
}

/** Options of {@link startHostServer}. */
export interface HostServerOptions {
  /** `unix:/abs/path.sock` (made 0600 after bind) or `127.0.0.1:0` (then `secret` is required). */
  readonly listen: string;
  /** Per-run secret every call must carry as `x-snakepit-secret`. Default: none (Unix sockets only). */
  readonly secret?: string;
  readonly handlers: HostHandlers;
}

/** The running host service. */
export interface HostServer {
  /** The address workers call (`unix:/...` or `127.0.0.1:port`). */
  readonly address: string;
  /** Stops the server: in-flight calls get `graceMs` to finish, then are cancelled. */
  close(graceMs?: number): Promise<void>;
}

type Impl = { name: string; input: DescMessage; output: DescMessage };

// The gRPC status a coded failure travels with; its code itself rides in trailing metadata.
const statusOfCode: Partial<Record<string, grpcStatus>> = {
  INVALID_ARGUMENTS: grpcStatus.INVALID_ARGUMENT,
  SESSION_CONFLICT: grpcStatus.ABORTED,
  SESSION_STORE_UNAVAILABLE: grpcStatus.UNAVAILABLE,
};

/** A handler's failure as a gRPC status: a `SnakepitError` keeps its code (`x-snakepit-error-code`). */
function failureStatus(err: unknown): Partial<StatusObject> {
  const details = err instanceof Error ? err.message : String(err);
  if (!(err instanceof SnakepitError)) return { code: grpcStatus.INTERNAL, details };
  const metadata = new Metadata();
  metadata.set(metadataKeys.errorCode, err.code);
  return { code: statusOfCode[err.code] ?? grpcStatus.INTERNAL, details, metadata };
}

/**
 * Starts the host service that Python workers call back into: dependent heartbeats, session
 * state and host tools. Listens on a Unix socket (mode 0600) or loopback TCP with a secret;
 * never on all interfaces.
 */
export async function startHostServer(options: HostServerOptions): Promise<HostServer> {
  const { listen, secret, handlers } = options;
  const isUnix = listen.startsWith("unix:");
  if (!isUnix && !/^(127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+$/.test(listen)) {
    throw new SnakepitError(
      "INVALID_OPTIONS",
      `The host service must listen on a Unix socket or loopback, got \`${listen}\``,
    );
  }
  if (!isUnix && secret === undefined) {
    throw new SnakepitError(
      "INVALID_OPTIONS",
      "A loopback TCP host service needs a per-run `secret`",
    );
  }
  const server = new Server({
    "grpc.max_receive_message_length": limits.maxMessageBytes,
    "grpc.max_send_message_length": limits.maxMessageBytes,
  });
  const methods = host.HostService.method;
  const definition: Record<string, unknown> = {};
  const implementation: UntypedServiceImplementation = {};

  function add<I extends DescMessage, O extends DescMessage>(
    method: { name: string; input: I; output: O },
    fn: (req: MessageShape<I>, info: HostCallInfo) => Promise<MessageShape<O>> | MessageShape<O>,
  ) {
    const m = method as Impl;
    definition[m.name] = {
      path: `/${host.HostService.typeName}/${m.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (msg: MessageShape<I>) => Buffer.from(toBinary(method.input, msg)),
      requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
      responseSerialize: (msg: MessageShape<O>) => Buffer.from(toBinary(method.output, msg)),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    };
    const handler: handleUnaryCall<MessageShape<I>, MessageShape<O>> = (
      call: ServerUnaryCall<MessageShape<I>, MessageShape<O>>,
      callback,
    ) => {
      if (secret !== undefined && call.metadata.get(metadataKeys.secret)[0] !== secret) {
        callback({
          code: grpcStatus.UNAUTHENTICATED,
          details: "missing or wrong x-snakepit-secret",
        });
        return;
      }
      const info: HostCallInfo = {
        workerId: String(call.metadata.get(metadataKeys.workerId)[0] ?? ""),
        correlationId: call.metadata.get(metadataKeys.correlationId)[0]?.toString(),
      };
      Promise.resolve()
        .then(() => fn(call.request, info))
        .then(
          (res) => callback(null, res),
          (err: unknown) => callback(failureStatus(err)),
        );
    };
    implementation[m.name] = handler;
  }

  add(methods.heartbeat, (req, info) =>
    create(host.HostServiceHeartbeatResponseSchema, {
      sequence: req.sequence,
      known: handlers.heartbeat({ ...info, workerId: info.workerId || req.workerId }),
    }),
  );
  add(methods.getSessionState, async (req, info) => {
    const knownVersion = req.knownVersion === undefined ? undefined : Number(req.knownVersion);
    const read = await handlers.getSessionState(req.sessionId, req.keys, { ...info, knownVersion });
    const encoded: Record<string, ReturnType<typeof encodePayload>> = {};
    if (read.unchanged !== true) {
      for (const [k, v] of Object.entries(read.values)) encoded[k] = encodePayload(v);
    }
    return create(host.GetSessionStateResponseSchema, {
      values: encoded,
      version: BigInt(read.version),
      unchanged: read.unchanged === true,
    });
  });
  add(methods.setSessionState, async (req, info) => {
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(req.values)) values[k] = decodePayload(v);
    const ifVersion = req.ifVersion === undefined ? undefined : Number(req.ifVersion);
    const version = await handlers.setSessionState(req.sessionId, values, { ...info, ifVersion });
    return create(host.SetSessionStateResponseSchema, { version: BigInt(version) });
  });
  add(methods.deleteSessionState, async (req, info) => {
    const ifVersion = req.ifVersion === undefined ? undefined : Number(req.ifVersion);
    const version = await handlers.deleteSessionState(req.sessionId, req.keys, {
      ...info,
      ifVersion,
    });
    return create(host.DeleteSessionStateResponseSchema, { version: BigInt(version) });
  });
  add(methods.callHostTool, async (req, info) => {
    try {
      const value = await handlers.callHostTool(req.tool, decodeArguments(req.arguments), {
        ...info,
        sessionId: req.sessionId,
      });
      return create(host.CallHostToolResponseSchema, {
        outcome: { case: "result", value: encodePayload(value) },
      });
    } catch (err) {
      return create(host.CallHostToolResponseSchema, {
        outcome: { case: "error", value: errorToToolError(err) },
      });
    }
  });
  server.addService(definition as never, implementation);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  }).catch((cause: unknown) => {
    server.forceShutdown();
    throw new SnakepitError(
      "TRANSPORT_ERROR",
      `The host service could not listen on ${listen}: ${(cause as Error).message}`,
      { cause },
    );
  });
  if (isUnix) await chmod(listen.slice("unix:".length), 0o600);
  const address = isUnix ? listen : listen.replace(/:\d+$/, `:${port}`);

  let closing: Promise<void> | undefined;
  return {
    address,
    close(graceMs = 1000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
