import { createClient, ErrorReply } from "@redis/client";
import { SnakepitError } from "@snakepit/errors";
import { describeValue } from "@snakepit/errors/internal";
import type { RedisCommandClient, RedisCommandOptions } from "./redis-command-client.js";
import type { ResolvedRedisSessionStoreOptions } from "./redis-session-store-options.js";
import type { SessionScript } from "./session-scripts.js";

/** One store's way to Redis: its client (given or owned), start-up checks and bounded commands. */
export interface RedisConnection {
  /** Where it points, for messages (never with the password). */
  readonly where: string;
  /**
   * Connects (an owned client, or a given one that is not open), `PING`s and loads `scripts`;
   * rejects with `SESSION_STORE_UNAVAILABLE` saying why. Idempotent; a failed start may be retried.
   */
  ready(): Promise<void>;
  /**
   * Sends one command once started (starting first if needed); rejects with whatever failed
   * (the caller maps it) and after `commandTimeoutMs` without a reply.
   */
  send<T>(args: ReadonlyArray<string | Buffer>, options: RedisCommandOptions): Promise<T>;
  /** Closes an owned client (a given one stays open); later sends fail. Idempotent. */
  close(): Promise<void>;
}

/** What the store does with a client it created, beyond sending commands. */
interface OwnedClient extends RedisCommandClient {
  readonly isReady: boolean;
  close(): Promise<void>;
  destroy(): void;
}

const MAX_RECONNECT_DELAY_MS = 1000;

/** Creates the {@link RedisConnection} of a store; connects nothing until `ready()` or a send. */
export function createRedisConnection(
  opts: ResolvedRedisSessionStoreOptions,
  scripts: readonly SessionScript[],
): RedisConnection {
  const where = describeTarget(opts);
  let client: RedisCommandClient | undefined = opts.client;
  let owned: OwnedClient | undefined;
  let started = false;
  let closed = false;
  let readying: Promise<void> | undefined;

  function ownClient() {
    const created = createClient({
      ...(opts.url === undefined ? {} : { url: opts.url }),
      ...(opts.password === undefined ? {} : { password: opts.password }),
      ...(opts.username === undefined ? {} : { username: opts.username }),
      socket: {
        ...(opts.socketPath === undefined ? {} : { path: opts.socketPath }),
        connectTimeout: opts.connectTimeoutMs,
        // Before the first successful start a failure is final (a clear error at start-up, not
        // a retry loop); after it, reconnect forever so a Redis restart needs no host restart.
        reconnectStrategy: (retries: number, cause: Error) =>
          started ? Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) : cause,
      },
      // While disconnected, fail at once instead of queueing: callers get a coded error fast.
      disableOfflineQueue: true,
      // Commands a hung Redis has not answered stay queued (see `bounded`): cap them.
      commandsQueueMaxLength: 10_000,
      // Redis Enterprise maintenance notices are of no use here, and @redis/client 6.3.1's
      // handshake for them throws "Invalid URL" on a `unix://` url.
      maintNotifications: "disabled",
    });
    // node-redis emits connection errors as events; they reach callers as rejected operations.
    created.on("error", () => undefined);
    return created;
  }

  async function connect(): Promise<void> {
    if (closed) throw closedError();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${opts.connectTimeoutMs} ms`)),
        opts.connectTimeoutMs,
      );
    });
    try {
      if (opts.client === undefined) {
        owned = ownClient();
        client = owned;
      }
      const c = client as RedisCommandClient;
      if (!c.isOpen) await Promise.race([c.connect(), timedOut]);
      const cmd = { timeout: opts.connectTimeoutMs };
      const pong = await Promise.race([c.sendCommand(["PING"], cmd), timedOut]);
      if (pong !== "PONG") throw new Error(`PING answered ${describeValue(pong)}, not PONG`);
      for (const s of scripts) {
        await Promise.race([c.sendCommand(["SCRIPT", "LOAD", s.source], cmd), timedOut]);
      }
      started = true;
    } catch (err) {
      owned?.destroy();
      owned = undefined;
      throw new SnakepitError(
        "SESSION_STORE_UNAVAILABLE",
        `The session store could not start: Redis at ${where} ${startFailure(err)}`,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  function ready(): Promise<void> {
    readying ??= connect().catch((err: unknown) => {
      readying = undefined;
      throw err;
    });
    return readying;
  }

  /**
   * Fails a command with no reply within `commandTimeoutMs`. node-redis's own `timeout` only
   * covers a command still waiting to be written; one written to a Redis that hangs (stopped,
   * swapping, a long script) would wait for ever. The command itself stays queued: its late
   * reply is consumed in order, or it fails when the connection drops.
   */
  function bounded<T>(command: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no reply within ${opts.commandTimeoutMs} ms`)),
        opts.commandTimeoutMs,
      );
    });
    command.catch(() => undefined);
    return Promise.race([command, expired]).finally(() => clearTimeout(timer));
  }

  return {
    where,
    ready,
    async send<T>(args: ReadonlyArray<string | Buffer>, options: RedisCommandOptions) {
      if (!started) await ready();
      if (closed) throw closedError();
      return await bounded((client as RedisCommandClient).sendCommand<T>(args, options));
    },
    async close() {
      if (closed) return;
      closed = true;
      const mine = owned;
      owned = undefined;
      if (mine === undefined) return;
      if (mine.isReady) await mine.close().catch(() => mine.destroy());
      else if (mine.isOpen) mine.destroy();
    },
  };

  function closedError(): SnakepitError {
    return new SnakepitError(
      "SESSION_STORE_UNAVAILABLE",
      `The session store at ${where} is closed`,
    );
  }
}

/** Where the store points, for messages (never with the password). */
function describeTarget(opts: ResolvedRedisSessionStoreOptions): string {
  if (opts.socketPath !== undefined) return `unix:${opts.socketPath}`;
  if (opts.url === undefined) return "the given client";
  if (opts.url.startsWith("unix:")) return `unix:${opts.url.replace(/^unix:\/\/(?:[^@/]*@)?/, "")}`;
  try {
    const url = new URL(opts.url);
    return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  } catch {
    return "an unparsable url";
  }
}

/** Says why start-up failed in words a person can act on. */
function startFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/WRONGPASS|invalid password|invalid username/i.test(message))
    return `refused the credentials (${message})`;
  if (/NOAUTH/.test(message)) return `requires a password (${message})`;
  if (/ECONNREFUSED|ENOENT/.test(message)) return `refused the connection (${message})`;
  if (err instanceof ErrorReply) return `replied with an error (${message})`;
  if (/no answer within/.test(message)) return `did not answer like Redis: ${message}`;
  return `does not speak the Redis protocol or dropped the connection (${message})`;
}
