import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { createClient } from "@redis/client";
import { createPool, SnakepitError } from "@snakepit/pool";
import { findRedisServer, type RedisServer, startRedisServer } from "@snakepit/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisSessionStore, type RedisSessionStore } from "./index.js";

const redisServer = findRedisServer();
if (redisServer === undefined) {
  console.warn("SKIPPED: the Redis store's tests: redis-server is not installed");
}

async function failure(promise: Promise<unknown>): Promise<SnakepitError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SnakepitError);
    return err as SnakepitError;
  }
  throw new Error("expected a rejection");
}

/** A TCP server on 127.0.0.1 that answers every connection with `reply` (or nothing). */
async function fakeServer(
  reply: string | undefined,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.on("data", () => {
      if (reply !== undefined) socket.end(reply);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("options", () => {
  it.each([
    ["none of client/url/socketPath", {}],
    ["two of them", { url: "redis://localhost", socketPath: "/tmp/x.sock" }],
    ["a ttlMs of 0", { url: "redis://localhost", ttlMs: 0 }],
    ["a fractional commandTimeoutMs", { url: "redis://localhost", commandTimeoutMs: 1.5 }],
    ["an empty url", { url: "" }],
    ["a client without sendCommand", { client: {} }],
    ["an unknown option", { url: "redis://localhost", ttl: 5 }],
  ])("%s is INVALID_OPTIONS, at once", (_, options) => {
    expect(() => createRedisSessionStore(options as never)).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
  });
});

describe.skipIf(redisServer === undefined)("on a real redis-server", () => {
  let server: RedisServer;
  const stores: RedisSessionStore[] = [];
  function store(options: Partial<Parameters<typeof createRedisSessionStore>[0]> = {}) {
    const s = createRedisSessionStore({ url: server.url, ...options } as never);
    stores.push(s);
    return s;
  }
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    if (server.pid === undefined) await server.start();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("a wrong password fails ready() with SESSION_STORE_UNAVAILABLE saying so", async () => {
    const err = await failure(store({ url: server.url.replace(/:[^:@]*@/, ":wrong@") }).ready());
    expect(err.code).toBe("SESSION_STORE_UNAVAILABLE");
    expect(err.message).toMatch(/refused the credentials/);
    expect(err.message).not.toContain(server.password);
  });

  it("no password fails ready() with SESSION_STORE_UNAVAILABLE: it requires one", async () => {
    const err = await failure(store({ url: undefined, socketPath: server.socketPath }).ready());
    expect(err.code).toBe("SESSION_STORE_UNAVAILABLE");
    expect(err.message).toMatch(/requires a password|refused the credentials/);
  });

  it("pool.ready() fails with the store's error, before any call", async () => {
    const fixtures = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
    const pool = createPool({
      adapter: `${fixtures}session_adapter.py:SessionAdapter`,
      size: 1,
      sessionStore: store({ url: server.url.replace(/:[^:@]*@/, ":wrong@") }),
    });
    try {
      const err = await failure(pool.ready());
      expect(err.code).toBe("SESSION_STORE_UNAVAILABLE");
      expect(pool.stats().state).toBe("failed");
    } finally {
      await pool.destroy();
    }
  });

  it("a Redis that comes back serves the next operations, without a restart of the store", async () => {
    const s = store({ commandTimeoutMs: 500 });
    await s.set("s", { a: 1 });
    await server.stop();
    const started = performance.now();
    expect((await failure(s.get("s", ["a"]))).code).toBe("SESSION_STORE_UNAVAILABLE");
    expect((await failure(s.set("s", { a: 2 }))).code).toBe("SESSION_STORE_UNAVAILABLE");
    // Bounded: not the OS's TCP timeout, not a queue waiting for a reconnect.
    expect(performance.now() - started).toBeLessThan(5000);
    await server.start();
    // The client reconnects on its own backoff (at most 1 s between attempts).
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        expect(await s.set("s", { a: 3 })).toBeGreaterThan(0);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect((await s.get("s", ["a"])).values).toEqual({ a: 3 });
  });

  it("a Redis that hangs (SIGSTOP) fails operations after commandTimeoutMs; resumed, it serves again", async () => {
    const s = store({ commandTimeoutMs: 300 });
    await s.set("s", { a: 1 });
    const pid = server.pid as number;
    process.kill(pid, "SIGSTOP");
    try {
      const started = performance.now();
      expect((await failure(s.get("s", ["a"]))).code).toBe("SESSION_STORE_UNAVAILABLE");
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    // The late reply to the abandoned command is consumed in order: the next answer is ours.
    expect(await s.set("s", { a: 2 })).toBeGreaterThan(0);
    expect((await s.get("s", ["a"])).values).toEqual({ a: 2 });
  });

  it("a given client is used, connected if needed, and never closed by the store", async () => {
    const client = createClient({ url: server.url, maintNotifications: "disabled" });
    client.on("error", () => undefined);
    const s = store({ url: undefined, client, keyPrefix: "given:" });
    await s.ready();
    await s.set("s", { a: 1 });
    await s.close();
    expect(client.isReady).toBe(true);
    expect(await client.sendCommand(["HGET", "given:s", "k:a"])).toBe("j1");
    await client.close();
  });

  it("one hash per session under the prefix, expiring after the idle TTL", async () => {
    const s = store({ keyPrefix: "layout:", ttlMs: 60_000 });
    const version = await s.set("s", { a: [1] });
    const client = createClient({ url: server.url, maintNotifications: "disabled" });
    client.on("error", () => undefined);
    await client.connect();
    try {
      expect(await client.hGetAll("layout:s")).toEqual({ v: String(version), "k:a": "j[1]" });
      const ttl = await client.pTTL("layout:s");
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      await client.close();
    }
  });
});

describe("servers that are not Redis", () => {
  const fakes: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  it("a server speaking another protocol fails ready() with SESSION_STORE_UNAVAILABLE", async () => {
    const fake = await fakeServer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    fakes.push(fake);
    const s = createRedisSessionStore({ url: fake.url, connectTimeoutMs: 2000 });
    try {
      const err = await failure(s.ready());
      expect(err.code).toBe("SESSION_STORE_UNAVAILABLE");
      expect(err.message).toMatch(/Redis protocol|did not answer like Redis/);
    } finally {
      await s.close();
    }
  });

  it("a server that never answers fails ready() after connectTimeoutMs", async () => {
    const fake = await fakeServer(undefined);
    fakes.push(fake);
    const s = createRedisSessionStore({ url: fake.url, connectTimeoutMs: 500 });
    try {
      const err = await failure(s.ready());
      expect(err.code).toBe("SESSION_STORE_UNAVAILABLE");
      expect(err.message).toMatch(/did not answer like Redis/);
    } finally {
      await s.close();
    }
  });

  it("nothing listening fails ready() with SESSION_STORE_UNAVAILABLE: refused", async () => {
    const fake = await fakeServer(undefined);
    await fake.close();
    const s = createRedisSessionStore({ url: fake.url, connectTimeoutMs: 2000 });
    try {
      const err = await failure(s.ready());
      expect(err.code).toBe("SESSION_STORE_UNAVAILABLE");
      expect(err.message).toMatch(/refused the connection/);
    } finally {
      await s.close();
    }
  });
});
