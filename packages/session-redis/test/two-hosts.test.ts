// Two separate Node host processes, each with its own pool of Python workers, sharing one real
// redis-server: what a deployment behind a load balancer relies on.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { cleanupOrphans } from "@snakepit/pool";
import { findRedisServer, isRunning, type RedisServer, startRedisServer } from "@snakepit/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const fixture = fileURLToPath(new URL("./fixtures/session-host.mjs", import.meta.url));
const redisServer = findRedisServer();
if (redisServer === undefined) {
  console.warn("SKIPPED: the two-host tests: redis-server is not installed");
}

interface Outcome {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly code?: string;
  readonly message?: string;
  readonly ms?: number;
  readonly [more: string]: unknown;
}

/** A host process: requests are JSON lines, each answered by one line with the same id. */
interface Host {
  readonly pid: number;
  request(op: string, fields?: Record<string, unknown>): Promise<Outcome>;
  call(tool: string, args: Record<string, unknown>, sessionId?: string): Promise<Outcome>;
  kill(): Promise<void>;
  close(): Promise<void>;
}

const hosts: Host[] = [];

async function startHost(options: Record<string, unknown>): Promise<Host> {
  const child: ChildProcess = spawn(process.execPath, [fixture, JSON.stringify(options)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const pending = new Map<string, (outcome: Outcome) => void>();
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  createInterface({ input: child.stdout as NonNullable<ChildProcess["stdout"]> }).on(
    "line",
    (line) => {
      const message = JSON.parse(line) as Outcome & { id?: string; ready?: boolean; pid?: number };
      if (message.ready === true) onReady();
      else if (message.id !== undefined) pending.get(message.id)?.(message);
    },
  );
  let started = false;
  const host: Host = {
    pid: child.pid as number,
    request(op, fields = {}) {
      const id = randomUUID();
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.stdin?.write(`${JSON.stringify({ id, op, ...fields })}\n`);
      });
    },
    call(tool, args, sessionId) {
      return host.request("call", { tool, args, sessionId });
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // A started host closes when its stdin ends; one still starting, on SIGTERM.
      if (started) child.stdin?.end();
      else child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  // Registered before it is ready, so a test that fails early still stops it.
  hosts.push(host);
  const failedStart = exited.then(([code]) => {
    throw new Error(`host exited with ${code} before it was ready`);
  });
  await Promise.race([ready, failedStart]);
  failedStart.catch(() => undefined);
  started = true;
  return host;
}

describe.skipIf(redisServer === undefined)("two hosts, one Redis", () => {
  let server: RedisServer;
  let keyPrefix: string;
  const options = (extra: Record<string, unknown> = {}) => ({
    url: server.url,
    keyPrefix,
    size: 2,
    ...extra,
  });

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.close()));
    if (server.pid === undefined) await server.start();
  });
  afterAll(async () => {
    const pid = server?.pid;
    await server?.close();
    if (pid !== undefined) expect(isRunning(pid)).toBe(false);
  });

  it("state a tool writes on host A is read by a tool on host B", async () => {
    keyPrefix = `t:${randomUUID()}:`;
    const [a, b] = await Promise.all([startHost(options()), startHost(options())]);
    expect(a.pid).not.toBe(b.pid);
    expect(
      await a.call("put", { key: "model", value: { layers: 2, name: "tiny" } }, "s"),
    ).toMatchObject({ ok: true });
    expect(await b.call("get", { key: "model" }, "s")).toMatchObject({
      ok: true,
      value: { layers: 2, name: "tiny" },
    });
    // And back: B's write is what A reads next (A's cache is revalidated by version, never stale).
    expect(await b.call("put", { key: "model", value: { layers: 3 } }, "s")).toMatchObject({
      ok: true,
    });
    expect(await a.call("get", { key: "model" }, "s")).toMatchObject({
      ok: true,
      value: { layers: 3 },
    });
    expect(await b.call("get", { key: "model" }, "other")).toMatchObject({ ok: true, value: null });
  });

  it("host A SIGKILLed mid-session: host B carries on from the last committed state", async () => {
    keyPrefix = `t:${randomUUID()}:`;
    const [a, b] = await Promise.all([startHost(options()), startHost(options())]);
    expect(await a.call("put", { key: "step", value: 1 }, "s")).toMatchObject({ ok: true });
    expect(await a.call("put", { key: "step", value: 2 }, "s")).toMatchObject({ ok: true });
    // A's third step has read the state and is about to write 3 when its host dies.
    const inFlight = a.call("step", { key: "step", value: 3, pause_s: 3 }, "s");
    await new Promise((r) => setTimeout(r, 500));
    await a.kill();
    void inFlight;
    // What an operator runs after a host crash: A's socket directory is all it left behind.
    expect((await cleanupOrphans()).directoriesRemoved).toHaveLength(1);
    expect(await b.call("get", { key: "step" }, "s")).toMatchObject({ ok: true, value: 2 });
    expect(await b.call("step", { key: "step", value: 3 }, "s")).toMatchObject({
      ok: true,
      value: 2,
    });
    expect(await b.call("get", { key: "step" }, "s")).toMatchObject({ ok: true, value: 3 });
  });

  // Each increment is a call whose read-modify-write retries on a conflict; on 2 busy shared
  // cores this takes minutes, so the test has a budget of its own.
  it("1,000 concurrent increments of one counter from each host end at exactly 2,000", async () => {
    keyPrefix = `t:${randomUUID()}:`;
    const [a, b] = await Promise.all([startHost(options()), startHost(options())]);
    const runs = await Promise.all(
      [a, b].map((h) =>
        h.request("incr", { sessionId: "c", key: "n", count: 1000, concurrency: 8 }),
      ),
    );
    for (const run of runs) expect(run).toMatchObject({ ok: true, done: 1000, failures: [] });
    expect(await a.call("get", { key: "n" }, "c")).toMatchObject({ ok: true, value: 2000 });
    expect(await b.call("get", { key: "n" }, "c")).toMatchObject({ ok: true, value: 2000 });
  }, 480_000);

  it("an idle session expires on both hosts", async () => {
    keyPrefix = `t:${randomUUID()}:`;
    const [a, b] = await Promise.all([
      startHost(options({ ttlMs: 3000 })),
      startHost(options({ ttlMs: 3000 })),
    ]);
    await a.call("put", { key: "k", value: "idle" }, "idle");
    await a.call("put", { key: "k", value: "busy" }, "busy");
    // "busy" is used from alternating hosts for over 2 TTLs; "idle" is left alone.
    for (let i = 0; i < 14; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect(await (i % 2 === 0 ? b : a).call("get", { key: "k" }, "busy")).toMatchObject({
        value: "busy",
      });
    }
    expect(await b.call("get", { key: "k" }, "idle")).toMatchObject({ ok: true, value: null });
    expect(await a.call("get", { key: "k" }, "idle")).toMatchObject({ ok: true, value: null });
  });

  it("Redis stopped under load: session calls fail fast with SESSION_STORE_UNAVAILABLE, others succeed; Redis back: session calls succeed again", async () => {
    keyPrefix = `t:${randomUUID()}:`;
    const commandTimeoutMs = 1000;
    const [a, b] = await Promise.all([
      startHost(options({ commandTimeoutMs })),
      startHost(options({ commandTimeoutMs })),
    ]);
    for (const h of [a, b])
      expect(await h.request("load-start", { sessionId: "load", concurrency: 4 })).toMatchObject({
        ok: true,
      });
    await new Promise((r) => setTimeout(r, 1000));
    await server.stop();
    // While it is down, each host answers both kinds of call, and a session call fails coded.
    for (const h of [a, b]) {
      const down = await h.call("incr", { key: "probe" }, "probe");
      expect(down).toMatchObject({ ok: false, code: "SESSION_STORE_UNAVAILABLE" });
      expect(await h.call("echo", { value: 1 })).toMatchObject({ ok: true, value: 1 });
    }
    await new Promise((r) => setTimeout(r, 1500));
    await server.start();
    // No restart of anything: the hosts' clients reconnect by themselves.
    for (const h of [a, b]) {
      const deadline = Date.now() + 15_000;
      let outcome = await h.call("incr", { key: "probe" }, "probe");
      while (!outcome.ok && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        outcome = await h.call("incr", { key: "probe" }, "probe");
      }
      expect(outcome).toMatchObject({ ok: true });
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const h of [a, b]) {
      const { stats } = (await h.request("load-stop")) as unknown as {
        stats: {
          session: {
            ok: number;
            codes: Record<string, number>;
            maxFailMs: number;
            okAfterFail: number;
          };
          plain: { ok: number; failed: number; codes: Record<string, number> };
        };
      };
      expect(stats.plain.failed, JSON.stringify(stats.plain.codes)).toBe(0);
      expect(stats.plain.ok).toBeGreaterThan(0);
      expect(Object.keys(stats.session.codes)).toEqual(["SESSION_STORE_UNAVAILABLE"]);
      // Bounded: a session call fails within the command timeout plus call overhead, not a TCP timeout.
      // (Its time includes waiting in the pool's queue behind the other lanes on a busy machine.)
      expect(stats.session.maxFailMs).toBeLessThan(commandTimeoutMs + 9000);
      expect(stats.session.okAfterFail).toBeGreaterThan(0);
    }
  });
});
