// For applications

export type { RedisCommandClient, RedisCommandOptions } from "./redis-command-client.js";
export type { RedisSessionStore } from "./redis-session-store.js";
export { createRedisSessionStore } from "./redis-session-store.js";
export type {
  RedisSessionStoreOptions,
  ResolvedRedisSessionStoreOptions,
} from "./redis-session-store-options.js";
