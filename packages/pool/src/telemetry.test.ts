import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { eventNames, subscribe } from "@snakepit/telemetry";
import { waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { Logger } from "./index.js";
import { echoAdapter, rejection, usePool } from "./pool-test-helpers.test-helper.js";

const unsubscribes: Array<() => void> = [];
afterEach(() => {
  for (const off of unsubscribes.splice(0)) off();
});

/** Leaves orphans behind: a host whose workers have every lifeline off is SIGKILLed. */
async function orphanWorkers(): Promise<void> {
  const host: ChildProcess = spawn(
    process.execPath,
    [
      fileURLToPath(new URL("../test/fixtures/host.mjs", import.meta.url)),
      JSON.stringify({
        adapter: echoAdapter,
        size: 1,
        lifelines: { pipe: false, parentDeathSignal: false, hostHeartbeat: false },
        startMode: "spawn",
      }),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  host.stdout?.setEncoding("utf8");
  await new Promise<void>((resolve) => host.stdout?.once("data", () => resolve()));
  const exited = once(host, "exit");
  host.kill("SIGKILL");
  await exited;
}

describe("every catalogued event is emitted", () => {
  it("drives a pool through orphan sweep, start, calls, an error, queue timeout and rejection, a frozen worker, a crash, a recycle and close", async () => {
    const seen = new Map<string, Record<string, unknown>[]>();
    for (const name of eventNames) {
      unsubscribes.push(
        subscribe(name, (payload) =>
          seen.set(name, [...(seen.get(name) ?? []), payload as Record<string, unknown>]),
        ),
      );
    }
    await orphanWorkers();
    const pool = usePool({
      adapter: echoAdapter,
      size: 2,
      pipelineDepth: 1, // calls wait in the queue (queue events) rather than in a worker's window
      maxQueue: 1,
      queueTimeoutMs: 300,
      heartbeat: { intervalMs: 100, timeoutMs: 400 },
      recycle: { healthCheckIntervalMs: 100 },
      shutdownGraceMs: 200,
    });
    await pool.ready();
    await pool.execute("add", { a: 1, b: 2 }, { correlationId: "corr-1" });
    await rejection(pool.execute("fail"));
    // Both workers busy: one call times out in the queue, the next finds the queue full.
    const busy = [pool.execute("sleep", { seconds: 0.8 }), pool.execute("sleep", { seconds: 0.8 })];
    const timedOut = rejection(pool.execute("echo", { value: 1 }));
    expect((await rejection(pool.execute("echo", { value: 2 }))).code).toBe("QUEUE_FULL");
    expect((await timedOut).code).toBe("QUEUE_TIMEOUT");
    await Promise.all(busy);
    // A frozen worker: heartbeat timeout, monitor failure, failed health checks, replacement.
    const frozen = pool.stats().pids[0] as number;
    process.kill(frozen, "SIGSTOP");
    await waitFor(() => (seen.get("snakepit:worker:restarted")?.length ?? 0) >= 1, {
      timeoutMs: 10_000,
      message: "a restart",
    });
    await waitFor(() => pool.stats().workers.idle === 2, { timeoutMs: 10_000 });
    expect((await rejection(pool.execute("crash", { code: 3 }))).code).toBe("WORKER_CRASHED");
    await waitFor(() => pool.stats().workers.idle === 2, { timeoutMs: 10_000 });
    await pool.recycle(pool.stats().workerDetails[0]?.workerId as string);
    await pool.close();

    const missing = eventNames.filter((name) => !seen.has(name));
    expect(missing).toEqual([]);
    expect(seen.get("snakepit:registry:orphans_found")?.[0]).toMatchObject({ count: 1 });
    expect(seen.get("snakepit:call:end")?.[0]).toMatchObject({
      pool: "default",
      tool: "add",
      correlationId: "corr-1",
    });
    expect(seen.get("snakepit:call:error")?.some((e) => e.code === "TOOL_ERROR")).toBe(true);
    expect(seen.get("snakepit:heartbeat:monitor_failure")?.[0]).toMatchObject({
      reason: "timeout",
    });
    expect(seen.get("snakepit:worker:recycled")?.[0]).toMatchObject({ reason: "manual" });
    for (const [name, payloads] of seen) {
      if (!name.startsWith("snakepit:registry:"))
        for (const p of payloads) expect(p.pool, name).toBe("default");
    }
  }, 60_000);
});

describe("logs", () => {
  it("re-emits Python log lines through the pool's logger with the worker id and the call's correlation id", async () => {
    const records: Array<{ level: string; obj: Record<string, unknown>; msg: string | undefined }> =
      [];
    const logger = (bindings: Record<string, unknown>): Logger => {
      const at = (level: string) => (obj: object, msg?: string) =>
        records.push({ level, obj: { ...bindings, ...obj }, msg });
      return {
        child: (more) => logger({ ...bindings, ...more }),
        trace: at("trace"),
        debug: at("debug"),
        info: at("info"),
        warn: at("warn"),
        error: at("error"),
      };
    };
    const pool = usePool({ adapter: echoAdapter, size: 1, logger: logger({}) });
    await pool.execute("log", { message: "hello from python" }, { correlationId: "corr-42" });
    await waitFor(() => records.some((r) => r.msg === "hello from python"), {
      message: "the Python log line",
    });
    const line = records.find((r) => r.msg === "hello from python");
    expect(line).toMatchObject({
      level: "info",
      obj: { pool: "default", workerId: "default-1", correlationId: "corr-42", source: "python" },
    });
  });
});
