// Sessions: calls/s of a tool that reads and writes session state, on a pool of 2 with the memory
// store vs the Redis store (a real redis-server on a Unix socket, started here), alternating
// rounds; then the p50/p99 of one store get and one set, straight from Node.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createMemorySessionStore, createPool } from "@snakepit/pool";
import { createRedisSessionStore } from "@snakepit/session-redis";
import { findRedisServer, startRedisServer } from "@snakepit/testing";
import { closedLoop, median, quick, rate } from "./load.mjs";

const adapter = fileURLToPath(
  new URL(
    "../packages/session-redis/test/fixtures/session_adapter.py:SessionAdapter",
    import.meta.url,
  ),
);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** p50 and p99 in ms of `n` sequential runs of `op(i)`. */
async function latencies(op, n) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

export async function benchSessions({
  rounds = quick ? 1 : 7,
  maxCalls = quick ? 200 : 2000,
  maxMs = quick ? 500 : 2000,
  ops = quick ? 200 : 3000,
  concurrency = 8,
  print = console.log,
} = {}) {
  if (findRedisServer() === undefined) {
    const line = "Skipped: `redis-server` is not installed on this machine.";
    print(line);
    return { table: line };
  }
  const server = await startRedisServer();
  const stores = {
    memory: createMemorySessionStore(),
    redis: createRedisSessionStore({ url: server.url, keyPrefix: `bench:${randomUUID()}:` }),
  };
  const pools = {};
  try {
    await stores.redis.ready();
    for (const [name, sessionStore] of Object.entries(stores)) {
      pools[name] = createPool({
        adapter,
        size: 2,
        name: `sessions-${name}`,
        sessionStore,
        registry: false,
      });
    }
    await Promise.all(Object.values(pools).map((p) => p.ready()));
    // 64 sessions, so the 8 calls in flight rarely share one (update() retries when they do).
    const call = (pool) => (i) => pool.execute("incr", { key: "n" }, { sessionId: `s${i % 64}` });
    for (const pool of Object.values(pools))
      await closedLoop(call(pool), { concurrency, maxCalls: 300, maxMs });
    const rates = { memory: [], redis: [] };
    const ratios = [];
    for (let i = 0; i < rounds; i++) {
      // Alternate the order so drift from other load on the machine hits both alike.
      const order = i % 2 === 0 ? ["memory", "redis"] : ["redis", "memory"];
      const round = {};
      for (const name of order) {
        round[name] = (
          await closedLoop(call(pools[name]), { concurrency, maxCalls, maxMs })
        ).perSecond;
        rates[name].push(round[name]);
      }
      ratios.push(round.redis / round.memory);
    }
    const rt = {};
    for (const [name, store] of Object.entries(stores)) {
      const value = { model: "tiny", weights: Array.from({ length: 16 }, (_, i) => i / 16) };
      rt[name] = {
        set: await latencies((i) => store.set(`rt${i % 64}`, { value }), ops),
        get: await latencies((i) => store.get(`rt${i % 64}`, ["value"]), ops),
      };
    }
    const f = (ms) => (ms < 0.1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
    const lines = [
      `| store | median calls/s (pool of 2, concurrency ${concurrency}, a tool that reads and writes session state) | get p50 / p99 | set p50 / p99 |`,
      "|---|---|---|---|",
      `| memory (in the host) | ${rate(median(rates.memory))} | ${f(rt.memory.get.p50)} / ${f(rt.memory.get.p99)} | ${f(rt.memory.set.p50)} / ${f(rt.memory.set.p99)} |`,
      `| Redis (local redis-server, Unix socket) | ${rate(median(rates.redis))} | ${f(rt.redis.get.p50)} / ${f(rt.redis.get.p99)} | ${f(rt.redis.set.p50)} / ${f(rt.redis.set.p99)} |`,
      `| ratio Redis ÷ memory (median of rounds) | ${median(ratios).toFixed(2)} | | |`,
    ];
    for (const line of lines) print(line);
    return { table: lines.join("\n"), ratio: median(ratios) };
  } finally {
    await Promise.all(Object.values(pools).map((p) => p.close()));
    for (const store of Object.values(stores)) await store.close();
    await server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchSessions();
