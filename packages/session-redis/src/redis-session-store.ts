import { createClient, ErrorReply, RESP_TYPES } from "@redis/client";
import { describeValue, SnakepitError } from "@snakepit/errors";
import {
  decodeSessionValue,
  encodeSessionValue,
  type SessionOperationOptions,
  type SessionSnapshot,
  type SessionStore,
  type SessionWriteOptions,
  sessionConflict,
  validateSessionId,
  validateSessionKey,
} from "@snakepit/pool";
import type { RedisCommandClient, RedisCommandOptions } from "./redis-command-client.js";
import { redisFailure } from "./redis-error.js";
import {
  type RedisSessionStoreOptions,
  type ResolvedRedisSessionStoreOptions,
  resolveRedisSessionStoreOptions,
} from "./redis-session-store-options.js";
import {
  deleteScript,
  getScript,
  type SessionScript,
  setScript,
  versionScript,
} from "./session-scripts.js";

/** A {@link SessionStore} on Redis; `ready()` and `close()` are always there. */
export interface RedisSessionStore extends SessionStore {
  /**
   * Connects (if the store owns its client, or the given one is not open), checks that the
   * server speaks Redis and accepts the credentials, and loads the scripts. Rejects with
   * `SESSION_STORE_UNAVAILABLE` and a message naming the cause (`WRONGPASS`, not Redis, refused,
   * timed out) otherwise. Idempotent; a failed attempt may be retried. Operations call it first.
   */
  ready(options?: SessionOperationOptions): Promise<void>;
  /** Closes the client the store owns (a given client stays open). Idempotent. */
  close(): Promise<void>;
  get(
    sessionId: string,
    keys: readonly string[],
    options?: SessionOperationOptions,
  ): Promise<SessionSnapshot>;
  version(sessionId: string, options?: SessionOperationOptions): Promise<number>;
  set(
    sessionId: string,
    values: Readonly<Record<string, unknown>>,
    options?: SessionWriteOptions,
  ): Promise<number>;
  delete(
    sessionId: string,
    keys: readonly string[],
    options?: SessionWriteOptions,
  ): Promise<number>;
  touch(sessionId: string, options?: SessionOperationOptions): Promise<boolean>;
  clear(sessionId: string, options?: SessionOperationOptions): Promise<void>;
}

/** What the store does with a client it created, beyond sending commands. */
interface OwnedClient extends RedisCommandClient {
  readonly isReady: boolean;
  close(): Promise<void>;
  destroy(): void;
}

// Bulk strings as Buffers: stored values are bytes (a tag byte, then JSON or raw bytes).
const buffers = { [RESP_TYPES.BLOB_STRING]: Buffer };
const FIELD = "k:";
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * Creates a {@link SessionStore} that keeps each session in one Redis hash, so any number of
 * hosts (each with its own pool) share sessions. Every operation is one Lua script: versioned,
 * conditional writes are atomic, and every operation slides the session's idle TTL (`ttlMs`).
 * Creates no global state and connects lazily: `await store.ready()` (the pool does, in
 * `pool.ready()`) to fail at start-up on a wrong password or a server that is not Redis.
 *
 * An operation fails with `SESSION_STORE_UNAVAILABLE` within `commandTimeoutMs` when Redis is
 * down or hangs; the owned client reconnects in the background (backoff up to 1 s), so calls
 * succeed again when Redis is back, without a restart.
 */
export function createRedisSessionStore(options: RedisSessionStoreOptions): RedisSessionStore {
  const opts = resolveRedisSessionStoreOptions(options);
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
      for (const s of [getScript, versionScript, setScript, deleteScript]) {
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

  async function run<T>(
    script: SessionScript,
    sessionId: string,
    args: ReadonlyArray<string | Buffer>,
    options: SessionOperationOptions | undefined,
  ): Promise<T> {
    const signal = options?.signal;
    try {
      signal?.throwIfAborted();
      if (!started) await ready();
      if (closed) throw closedError();
      const c = client as RedisCommandClient;
      const cmd: RedisCommandOptions = {
        timeout: opts.commandTimeoutMs,
        typeMapping: buffers,
        ...(signal === undefined ? {} : { abortSignal: signal }),
      };
      const key = opts.keyPrefix + sessionId;
      try {
        return await bounded(c.sendCommand<T>(["EVALSHA", script.sha1, "1", key, ...args], cmd));
      } catch (err) {
        // A restarted or flushed Redis forgot the scripts: send the source once.
        if (!(err instanceof ErrorReply && err.message.startsWith("NOSCRIPT"))) throw err;
        return await bounded(c.sendCommand<T>(["EVAL", script.source, "1", key, ...args], cmd));
      }
    } catch (err) {
      throw redisFailure(err, where, signal);
    }
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

  const ttl = String(opts.ttlMs);

  return {
    ready,
    async get(sessionId, keys, options): Promise<SessionSnapshot> {
      validateSessionId(sessionId);
      for (const key of keys) validateSessionKey(key);
      const fields = keys.map((k) => FIELD + k);
      const reply = await run<[number, Buffer[]?]>(getScript, sessionId, [ttl, ...fields], options);
      const values: Record<string, unknown> = {};
      const flat = reply[1] ?? [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = (flat[i] as Buffer).toString();
        if (field.startsWith(FIELD))
          values[field.slice(FIELD.length)] = decodeSessionValue(flat[i + 1] as Buffer);
      }
      return { version: reply[0], values };
    },
    async version(sessionId, options) {
      validateSessionId(sessionId);
      return await run<number>(versionScript, sessionId, [ttl], options);
    },
    async set(sessionId, values, options) {
      validateSessionId(sessionId);
      const args: Array<string | Buffer> = [ttl, expected(options)];
      for (const [key, value] of Object.entries(values)) {
        validateSessionKey(key);
        const encoded = encodeSessionValue(key, value);
        args.push(FIELD + key, Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength));
      }
      return written(sessionId, options, await run(setScript, sessionId, args, options));
    },
    async delete(sessionId, keys, options) {
      validateSessionId(sessionId);
      for (const key of keys) validateSessionKey(key);
      const args = [ttl, expected(options), ...keys.map((k) => FIELD + k)];
      return written(sessionId, options, await run(deleteScript, sessionId, args, options));
    },
    async touch(sessionId, options) {
      validateSessionId(sessionId);
      return (await run<number>(versionScript, sessionId, [ttl], options)) !== 0;
    },
    async clear(sessionId, options) {
      validateSessionId(sessionId);
      const signal = options?.signal;
      try {
        if (!started) await ready();
        if (closed) throw closedError();
        await bounded(
          (client as RedisCommandClient).sendCommand(["DEL", opts.keyPrefix + sessionId], {
            timeout: opts.commandTimeoutMs,
            ...(signal === undefined ? {} : { abortSignal: signal }),
          }),
        );
      } catch (err) {
        throw redisFailure(err, where, signal);
      }
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

/** The `ifVersion` argument of a write script: the expected version, or '' for none. */
function expected(options: SessionWriteOptions | undefined): string {
  const v = options?.ifVersion;
  if (v === undefined) return "";
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new SnakepitError(
      "INVALID_ARGUMENTS",
      `Expected \`ifVersion\` to be a non-negative safe integer, got ${describeValue(v)}`,
    );
  }
  return String(v);
}

/** The version a write script returned, or the `SESSION_CONFLICT` it reported. */
function written(
  sessionId: string,
  options: SessionWriteOptions | undefined,
  reply: unknown,
): number {
  const [ok, version] = reply as [number, number];
  if (ok !== 1) sessionConflict(sessionId, options?.ifVersion ?? -1, version);
  return version;
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
