import { ErrorReply, RESP_TYPES } from "@redis/client";
import { SnakepitError } from "@snakepit/errors";
import { describeValue } from "@snakepit/errors/internal";
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
import type { RedisCommandOptions } from "./redis-command-client.js";
import { createRedisConnection } from "./redis-connection.js";
import { redisFailure } from "./redis-error.js";
import {
  type RedisSessionStoreOptions,
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

// Bulk strings as Buffers: stored values are bytes (a tag byte, then JSON or raw bytes).
const buffers = { [RESP_TYPES.BLOB_STRING]: Buffer };
const FIELD = "k:";

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
  const connection = createRedisConnection(opts, [
    getScript,
    versionScript,
    setScript,
    deleteScript,
  ]);
  const { where } = connection;

  async function run<T>(
    script: SessionScript,
    sessionId: string,
    args: ReadonlyArray<string | Buffer>,
    options: SessionOperationOptions | undefined,
  ): Promise<T> {
    const signal = options?.signal;
    try {
      signal?.throwIfAborted();
      const cmd: RedisCommandOptions = {
        timeout: opts.commandTimeoutMs,
        typeMapping: buffers,
        ...(signal === undefined ? {} : { abortSignal: signal }),
      };
      const key = opts.keyPrefix + sessionId;
      try {
        return await connection.send<T>(["EVALSHA", script.sha1, "1", key, ...args], cmd);
      } catch (err) {
        // A restarted or flushed Redis forgot the scripts: send the source once.
        if (!(err instanceof ErrorReply && err.message.startsWith("NOSCRIPT"))) throw err;
        return await connection.send<T>(["EVAL", script.source, "1", key, ...args], cmd);
      }
    } catch (err) {
      throw redisFailure(err, where, signal);
    }
  }

  const ttl = String(opts.ttlMs);

  return {
    ready: () => connection.ready(),
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
        await connection.send(["DEL", opts.keyPrefix + sessionId], {
          timeout: opts.commandTimeoutMs,
          ...(signal === undefined ? {} : { abortSignal: signal }),
        });
      } catch (err) {
        throw redisFailure(err, where, signal);
      }
    },
    close: () => connection.close(),
  };
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
