import { fileURLToPath } from "node:url";
import { subscribe } from "@snakepit/telemetry";
import { isRunning, waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createPool, type Pool } from "./index.js";

const echoAdapter = fileURLToPath(
  new URL("../../python-bridge/test/fixtures/echo_adapter.py:EchoAdapter", import.meta.url),
);
const pools: Pool[] = [];
const unsubscribes: Array<() => void> = [];
afterEach(async () => {
  for (const off of unsubscribes.splice(0)) off();
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
});

describe("heartbeats in the pool", () => {
  it("never misses on a healthy worker under load, and reports pong latency", async () => {
    const latencies: number[] = [];
    const misses: unknown[] = [];
    unsubscribes.push(
      subscribe("snakepit:heartbeat:pong_received", (e) => latencies.push(e.latencyMs)),
    );
    unsubscribes.push(subscribe("snakepit:heartbeat:heartbeat_timeout", (e) => misses.push(e)));
    const pool = createPool({
      adapter: echoAdapter,
      size: 2,
      heartbeat: { intervalMs: 50, timeoutMs: 1000 },
    });
    pools.push(pool);
    await pool.ready();
    // Keep one worker busy in pure-Python CPU work for 3 s: its pings are answered off the tool thread.
    await Promise.all([
      pool.execute("cpu_burn", { seconds: 3 }),
      pool.execute("sleep", { seconds: 3 }),
    ]);
    expect(misses).toEqual([]);
    expect(latencies.length).toBeGreaterThan(40);
    expect(pool.stats().restarts).toBe(0);
  });

  it("declares a SIGSTOPped worker dead within intervalMs + timeoutMs, kills it and restores the pool", async () => {
    const intervalMs = 200;
    const timeoutMs = 500;
    const failures: Array<{ workerId: string; reason: string }> = [];
    unsubscribes.push(subscribe("snakepit:heartbeat:monitor_failure", (e) => failures.push(e)));
    const pool = createPool({
      adapter: echoAdapter,
      size: 2,
      heartbeat: { intervalMs, timeoutMs },
      shutdownGraceMs: 300,
    });
    pools.push(pool);
    await pool.ready();
    const [frozen, other] = pool.stats().pids as [number, number];
    const stoppedAt = performance.now();
    process.kill(frozen, "SIGSTOP");
    await waitFor(() => failures.length > 0, { timeoutMs: 5000, message: "the heartbeat failure" });
    const detectedMs = performance.now() - stoppedAt;
    // The bound is intervalMs + timeoutMs (plus one interval); 250 ms more absorbs timer lag on a loaded machine.
    expect(detectedMs).toBeLessThan(intervalMs + timeoutMs + intervalMs + 250);
    expect(failures[0]?.reason).toBe("timeout");
    await waitFor(() => !isRunning(frozen), {
      timeoutMs: 5000,
      message: "the frozen worker to be killed",
    });
    await waitFor(() => pool.stats().workers.idle === 2, {
      timeoutMs: 10_000,
      message: "the pool to be back to full size",
    });
    expect(pool.stats()).toMatchObject({ restartsByReason: { unhealthy: 1, crashed: 0 } });
    expect(pool.stats().pids).toContain(other);
    expect(pool.stats().pids).not.toContain(frozen);
    expect(await pool.execute("add", { a: 1, b: 2 })).toBe(3);
  });

  it("fails the call running on a frozen worker with WORKER_UNHEALTHY", async () => {
    const pool = createPool({
      adapter: echoAdapter,
      size: 1,
      heartbeat: { intervalMs: 100, timeoutMs: 300 },
      shutdownGraceMs: 200,
    });
    pools.push(pool);
    await pool.ready();
    const [pid] = pool.stats().pids as [number];
    const call = pool.execute("sleep", { seconds: 30 }).catch((e: unknown) => e);
    await waitFor(() => pool.stats().inFlight === 1);
    process.kill(pid, "SIGSTOP");
    expect(await call).toMatchObject({ code: "WORKER_UNHEALTHY" });
  });

  it("can be turned off per pool", async () => {
    let pings = 0;
    unsubscribes.push(subscribe("snakepit:heartbeat:ping_sent", () => pings++));
    const pool = createPool({ adapter: echoAdapter, size: 1, heartbeat: false });
    pools.push(pool);
    await pool.ready();
    await new Promise((r) => setTimeout(r, 300));
    expect(pings).toBe(0);
  });
});
