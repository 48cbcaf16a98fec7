import { SnakepitError } from "@snakepit/errors";
import {
  createPrivateDirectory,
  type HostServer,
  type HostSessionRead,
  type PrivateDirectory,
  startHostServer,
} from "@snakepit/python-bridge";
import { withCorrelationId } from "@snakepit/telemetry";
import type { HostTool } from "./pool-types.js";
import { validateSessionId } from "./session-input.js";
import type { SessionStore } from "./session-store.js";

/** The host side a pool's workers talk to: a private socket directory and the host service in it. */
export interface PoolHostService {
  readonly directory: PrivateDirectory;
  readonly server: HostServer;
  close(): Promise<void>;
}

/** Options of {@link startPoolHostService}. */
export interface PoolHostServiceOptions {
  readonly sessions: SessionStore;
  readonly hostTools: Readonly<Record<string, HostTool>>;
  /** True while the pool knows this worker (its dependent heartbeat gets `known: false` otherwise). */
  readonly knowsWorker: (workerId: string) => boolean;
  /** Part of the socket directory's name (the run id), for people looking at `/tmp`. */
  readonly label: string;
}

/**
 * A worker's session read: when it holds the keys cached at `knownVersion` and the session is
 * still there, only the version is read (no values travel).
 */
async function readSession(
  store: SessionStore,
  sessionId: string,
  keys: readonly string[],
  knownVersion: number | undefined,
): Promise<HostSessionRead> {
  validateSessionId(sessionId);
  if (knownVersion !== undefined && (await store.version(sessionId)) === knownVersion) {
    return { version: knownVersion, values: {}, unchanged: true };
  }
  return await store.get(sessionId, keys);
}

/** Creates the 0700 socket directory and starts the host service on a 0600 Unix socket in it. */
export async function startPoolHostService(
  options: PoolHostServiceOptions,
): Promise<PoolHostService> {
  const directory = await createPrivateDirectory(options.label);
  try {
    const server = await startHostServer({
      listen: directory.socketAddress("host.sock"),
      handlers: {
        heartbeat: (info) => options.knowsWorker(info.workerId),
        getSessionState: (id, keys, { knownVersion }) =>
          readSession(options.sessions, id, keys, knownVersion),
        setSessionState(id, values, { ifVersion }) {
          validateSessionId(id);
          return options.sessions.set(id, values, ifVersion === undefined ? {} : { ifVersion });
        },
        deleteSessionState(id, keys, { ifVersion }) {
          validateSessionId(id);
          return options.sessions.delete(id, keys, ifVersion === undefined ? {} : { ifVersion });
        },
        async callHostTool(tool, args, context) {
          const fn = options.hostTools[tool];
          if (fn === undefined) {
            const known = Object.keys(options.hostTools);
            throw new SnakepitError(
              "HOST_TOOL_NOT_FOUND",
              `No host tool "${tool}"; registered: ${known.length === 0 ? "none" : known.join(", ")}`,
            );
          }
          const call = () =>
            fn(args, {
              sessionId: context.sessionId,
              workerId: context.workerId,
              correlationId: context.correlationId,
            });
          // The Python call's correlation id carries on: a host tool that calls a pool keeps it.
          const id = context.correlationId;
          return await (id === undefined ? call() : withCorrelationId(id, call));
        },
      },
    });
    return {
      directory,
      server,
      async close() {
        await server.close();
        await directory.remove();
      },
    };
  } catch (err) {
    await directory.remove();
    throw err;
  }
}
