import { isSnakepitError } from "@snakepit/errors";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, type SnakepitMetrics } from "./index.js";
import { publish } from "./internal.js";

let metrics: SnakepitMetrics | undefined;
afterEach(() => metrics?.dispose());

const call = { pool: "p", tool: "add", callId: "c1", correlationId: "corr" };
const worker = { pool: "p", workerId: "p-1" };

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/** Samples of `name`: a metric, or one series of a histogram (`..._sum`, `..._count`, `..._bucket`). */
async function values(registry: Registry, name: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const metric of await registry.getMetricsAsJSON())
    for (const v of metric.values as Sample[])
      if ((v.metricName ?? metric.name) === name) samples.push(v);
  return samples;
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  return (await values(registry, name)).find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )?.value;
}

describe("createMetrics (fed by published catalogue events)", () => {
  it("counts calls by outcome and observes durations and queue waits in seconds", async () => {
    const registry = new Registry();
    metrics = createMetrics({ registry });
    publish("snakepit:queue:enqueued", { ...call, depth: 3 });
    expect(await value(registry, "snakepit_queue_depth", { pool: "p" })).toBe(3);
    publish("snakepit:queue:dequeued", { ...call, depth: 2, waitMs: 250 });
    publish("snakepit:call:start", { ...call, workerId: "p-1", waitMs: 250 });
    publish("snakepit:call:end", { ...call, workerId: "p-1", durationMs: 1500 });
    publish("snakepit:call:error", { ...call, workerId: "p-1", durationMs: 5, code: "TOOL_ERROR" });
    publish("snakepit:call:error", {
      ...call,
      workerId: undefined,
      durationMs: 0,
      code: "ABORTED",
    });

    expect(await value(registry, "snakepit_queue_depth", { pool: "p" })).toBe(2);
    const calls = await values(registry, "snakepit_calls_total");
    expect(calls.map((v) => [v.labels.outcome, v.value]).sort()).toEqual([
      ["ABORTED", 1],
      ["TOOL_ERROR", 1],
      ["ok", 1],
    ]);
    expect(
      await value(registry, "snakepit_call_duration_seconds_sum", { outcome: "ok", tool: "add" }),
    ).toBe(1.5);
    expect(
      await value(registry, "snakepit_call_duration_seconds_count", { outcome: "error" }),
    ).toBe(2);
    expect(await value(registry, "snakepit_queue_wait_seconds_sum", { pool: "p" })).toBe(0.25);
  });

  it("ignores a duration that is not a finite number (prom-client would throw it in the publisher)", async () => {
    const registry = new Registry();
    metrics = createMetrics({ registry });
    publish("snakepit:call:end", { ...call, workerId: "p-1", durationMs: Number.NaN });
    publish("snakepit:queue:dequeued", { ...call, depth: 0, waitMs: Number.POSITIVE_INFINITY });
    expect(await value(registry, "snakepit_calls_total", { outcome: "ok" })).toBe(1);
    expect(await value(registry, "snakepit_call_duration_seconds_count")).toBeUndefined();
    expect(await value(registry, "snakepit_queue_wait_seconds_count")).toBeUndefined();
    expect(await value(registry, "snakepit_queue_depth", { pool: "p" })).toBe(0);
  });

  it("derives workers by state from spawned/ready/call/exit events", async () => {
    const registry = new Registry();
    metrics = createMetrics({ registry });
    const state = async () =>
      Object.fromEntries(
        (await values(registry, "snakepit_workers")).map((v) => [v.labels.state, v.value]),
      );
    publish("snakepit:worker:spawned", { ...worker, pid: 10 });
    publish("snakepit:worker:spawned", { pool: "p", workerId: "p-2", pid: 11 });
    expect(await state()).toEqual({ starting: 2, idle: 0, busy: 0, stopping: 0 });
    publish("snakepit:worker:ready", { ...worker, pid: 10, startMs: 800 });
    publish("snakepit:worker:ready", { pool: "p", workerId: "p-2", pid: 11, startMs: 900 });
    publish("snakepit:call:start", { ...call, workerId: "p-1", waitMs: 0 });
    expect(await state()).toEqual({ starting: 0, idle: 1, busy: 1, stopping: 0 });
    publish("snakepit:call:end", { ...call, workerId: "p-1", durationMs: 1 });
    publish("snakepit:heartbeat:monitor_failure", {
      pool: "p",
      workerId: "p-2",
      reason: "timeout",
      missed: 1,
    });
    expect(await state()).toEqual({ starting: 0, idle: 1, busy: 0, stopping: 1 });
    publish("snakepit:worker:exited", {
      pool: "p",
      workerId: "p-2",
      pid: 11,
      exitCode: null,
      signal: "SIGKILL",
      reason: "unhealthy",
    });
    expect(await state()).toEqual({ starting: 0, idle: 1, busy: 0, stopping: 0 });
    expect(await value(registry, "snakepit_worker_start_seconds_count", { pool: "p" })).toBe(2);
    expect(await value(registry, "snakepit_worker_exits_total", { reason: "unhealthy" })).toBe(1);
  });

  it.each([
    [
      "snakepit:worker:crashed",
      { ...worker, pid: 1, exitCode: 1, signal: null },
      "snakepit_worker_crashes_total",
      {},
    ],
    [
      "snakepit:worker:restarted",
      { ...worker, reason: "crashed", delayMs: 0 },
      "snakepit_worker_restarts_total",
      { reason: "crashed" },
    ],
    [
      "snakepit:worker:recycled",
      { ...worker, reason: "max_calls", uptimeMs: 1, callsServed: 9, memoryBytes: undefined },
      "snakepit_worker_recycles_total",
      { reason: "max_calls" },
    ],
    [
      "snakepit:worker:health_check_failed",
      { ...worker, reason: "rss", error: "too big" },
      "snakepit_worker_health_check_failures_total",
      { reason: "rss" },
    ],
    [
      "snakepit:heartbeat:heartbeat_timeout",
      { ...worker, sequence: 3, missed: 1, cause: "rejected" },
      "snakepit_heartbeat_misses_total",
      { cause: "rejected" },
    ],
    [
      "snakepit:heartbeat:monitor_failure",
      { ...worker, reason: "max-missed", missed: 3 },
      "snakepit_heartbeat_failures_total",
      { reason: "max-missed" },
    ],
    [
      "snakepit:heartbeat:pong_received",
      { ...worker, sequence: 1, latencyMs: 2 },
      "snakepit_heartbeat_latency_seconds_count",
      {},
    ],
    [
      "snakepit:queue:timeout",
      { ...call, depth: 0, waitMs: 100 },
      "snakepit_queue_timeouts_total",
      {},
    ],
    [
      "snakepit:queue:rejected",
      { ...call, reason: "full", depth: 10 },
      "snakepit_queue_rejected_total",
      { reason: "full" },
    ],
    [
      "snakepit:registry:orphans_found",
      { runIds: ["r"], count: 1 },
      "snakepit_orphans_found_total",
      {},
    ],
    [
      "snakepit:registry:cleanup_completed",
      { killed: 1, skipped: 0, durationMs: 3 },
      "snakepit_orphans_cleaned_total",
      {},
    ],
  ] as const)("%s increments %s", async (event, payload, metric, labels) => {
    const registry = new Registry();
    metrics = createMetrics({ registry });
    // biome-ignore lint/suspicious/noExplicitAny: the table pairs each event with its own payload
    publish(event, payload as any);
    expect(await value(registry, metric, labels)).toBe(1);
  });

  it("uses the prefix and buckets given, registers only into the given registry, and disposes", async () => {
    const registry = new Registry();
    metrics = createMetrics({ registry, prefix: "app_", buckets: { callDuration: [0.5, 1] } });
    expect(metrics.names.callsTotal).toBe("app_calls_total");
    publish("snakepit:call:end", { ...call, workerId: "w", durationMs: 700 });
    const buckets = await values(registry, "app_call_duration_seconds_bucket");
    expect(buckets.map((b) => [b.labels.le, b.value])).toEqual([
      [0.5, 0],
      [1, 1],
      ["+Inf", 1],
    ]);
    const { register } = await import("prom-client");
    expect(register.getSingleMetric("app_calls_total")).toBeUndefined();

    expect(() => createMetrics({ registry, prefix: "app_" })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
    metrics.dispose();
    metrics.dispose();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    publish("snakepit:call:end", { ...call, workerId: "w", durationMs: 700 }); // no listener left
    metrics = createMetrics({ registry, prefix: "app_" }); // re-creatable after dispose
  });

  it.each([
    [{}, "registry"],
    [{ registry: new Registry(), prefix: "bad-prefix" }, "prefix"],
    [{ registry: new Registry(), buckets: { callDuration: [1, 0.5] } }, "buckets.callDuration"],
    [{ registry: new Registry(), buckets: { nope: [1] } }, "buckets.nope"],
    [{ registry: new Registry(), colour: "red" }, "colour"],
  ])("rejects %o naming `%s`", (options, option) => {
    try {
      // biome-ignore lint/suspicious/noExplicitAny: invalid on purpose
      createMetrics(options as any);
      expect.unreachable();
    } catch (err) {
      expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
      expect((err as { details: { option: string } }).details.option).toBe(option);
    }
  });
});
