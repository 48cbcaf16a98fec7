import { randomUUID } from "node:crypto";
import { createMemorySessionStore } from "@snakepit/pool";
import { findRedisServer, isRunning, type RedisServer, startRedisServer } from "@snakepit/testing";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { createRedisSessionStore } from "./index.js";
import { describeSessionStoreContract } from "./session-store-contract.test-helper.js";

describeSessionStoreContract("memory", ({ ttlMs }) => createMemorySessionStore({ ttlMs }));

const redisServer = findRedisServer();
if (redisServer === undefined) {
  console.warn("SKIPPED: the Redis store's contract tests: redis-server is not installed");
}

describe.skipIf(redisServer === undefined)("on a real redis-server", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    const pid = server?.pid;
    await server?.close();
    if (pid !== undefined) expect(isRunning(pid)).toBe(false);
  });

  describeSessionStoreContract("redis", async ({ ttlMs }) => {
    // A prefix per store: tests share the server, never each other's sessions.
    const store = createRedisSessionStore({
      url: server.url,
      keyPrefix: `contract:${randomUUID()}:`,
      ttlMs,
    });
    await store.ready();
    return store;
  });
});
