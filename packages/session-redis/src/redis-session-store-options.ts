import {
  expectInteger,
  expectString,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors/internal";
import type { RedisCommandClient } from "./redis-command-client.js";

/** Options of {@link createRedisSessionStore}. Give `client`, or `url`, or `socketPath`. */
export interface RedisSessionStoreOptions {
  /**
   * A node-redis client (`createClient()` of `redis` or `@redis/client`) the store uses but does
   * not own: `ready()` connects it if it is not open, `close()` leaves it open. Attach your own
   * `'error'` listener. Default: the store creates and owns one from `url` or `socketPath`.
   */
  readonly client?: RedisCommandClient;
  /** `redis://[[user]:password@]host[:port][/db]`, `rediss://...` or `unix://[:password@]/path`. */
  readonly url?: string;
  /** A Unix socket path of the Redis server (instead of `url`). */
  readonly socketPath?: string;
  /** The password (`AUTH`), when not in `url`. Default: none. */
  readonly password?: string;
  /** The ACL user name, when not in `url`. Default: none (`default`). */
  readonly username?: string;
  /** Prefix of every key the store writes (one key per session). Default `"snakepit:session:"`. */
  readonly keyPrefix?: string;
  /** A session untouched (read, written or touched, from any host) for this long expires, in milliseconds. Default 3600000 (1 h). */
  readonly ttlMs?: number;
  /** One operation that takes longer fails with `SESSION_STORE_UNAVAILABLE`, in milliseconds. Default 2000. */
  readonly commandTimeoutMs?: number;
  /** `ready()` fails with `SESSION_STORE_UNAVAILABLE` when Redis has not answered by then, in milliseconds. Default 5000. */
  readonly connectTimeoutMs?: number;
}

/** {@link RedisSessionStoreOptions} with defaults applied, validated. */
export interface ResolvedRedisSessionStoreOptions {
  readonly client: RedisCommandClient | undefined;
  readonly url: string | undefined;
  readonly socketPath: string | undefined;
  readonly password: string | undefined;
  readonly username: string | undefined;
  readonly keyPrefix: string;
  readonly ttlMs: number;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

const keys = [
  "client",
  "url",
  "socketPath",
  "password",
  "username",
  "keyPrefix",
  "ttlMs",
  "commandTimeoutMs",
  "connectTimeoutMs",
] as const;

/** Validates {@link RedisSessionStoreOptions} at the door; throws `INVALID_OPTIONS` naming the option. */
export function resolveRedisSessionStoreOptions(
  options: RedisSessionStoreOptions,
): ResolvedRedisSessionStoreOptions {
  if (typeof options !== "object" || options === null) {
    throw invalidOption("options", "an object", options);
  }
  rejectUnknownKeys(options, keys);
  const { client, url, socketPath, password, username } = options;
  const given = [client, url, socketPath].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw invalidOption(
      "client` / `url` / `socketPath",
      "given, exactly one of them",
      `${given} given`,
    );
  }
  if (client !== undefined && typeof client.sendCommand !== "function") {
    throw invalidOption("client", "a node-redis client (with `sendCommand`)", client);
  }
  if (url !== undefined) expectString("url", url);
  if (socketPath !== undefined) expectString("socketPath", socketPath);
  if (password !== undefined) expectString("password", password);
  if (username !== undefined) expectString("username", username);
  const keyPrefix = options.keyPrefix ?? "snakepit:session:";
  if (typeof keyPrefix !== "string") throw invalidOption("keyPrefix", "a string", keyPrefix);
  const ttlMs = expectInteger("ttlMs", options.ttlMs ?? 3_600_000, 1);
  const commandTimeoutMs = expectInteger("commandTimeoutMs", options.commandTimeoutMs ?? 2000, 1);
  const connectTimeoutMs = expectInteger("connectTimeoutMs", options.connectTimeoutMs ?? 5000, 1);
  return {
    client,
    url,
    socketPath,
    password,
    username,
    keyPrefix,
    ttlMs,
    commandTimeoutMs,
    connectTimeoutMs,
  };
}
