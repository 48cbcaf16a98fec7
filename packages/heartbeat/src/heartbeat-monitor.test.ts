import { isSnakepitError } from "@snakepit/errors";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { HeartbeatEvent, HeartbeatFailure } from "./heartbeat-events.js";
import { createHeartbeatMonitor, type HeartbeatMonitorOptions } from "./heartbeat-monitor.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A monitor with recorded events and failures; `ping` defaults to an instant pong. */
function setup(overrides: Partial<HeartbeatMonitorOptions> = {}) {
  const events: HeartbeatEvent[] = [];
  const failures: HeartbeatFailure[] = [];
  const monitor = createHeartbeatMonitor({
    ping: async () => "pong",
    onFailure: (f) => failures.push(f),
    onEvent: (e) => events.push(e),
    intervalMs: 1000,
    timeoutMs: 500,
    ...overrides,
  });
  return { monitor, events, failures, types: () => events.map((e) => e.type) };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("cadence", () => {
  it("pings after initialDelayMs, then intervalMs after each pong settles (RTT + interval)", async () => {
    const sentAt: number[] = [];
    const { monitor } = setup({
      initialDelayMs: 200,
      ping: async () => {
        sentAt.push(Date.now());
        await delay(50);
      },
    });
    const t0 = Date.now();
    monitor.start();
    await vi.advanceTimersByTimeAsync(3500);
    monitor.stop();
    expect(sentAt.map((t) => t - t0)).toEqual([200, 1250, 2300, 3350]);
  });

  it("never overlaps pings, even when a ping takes longer than intervalMs", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { monitor } = setup({
      intervalMs: 100,
      timeoutMs: 5000,
      ping: async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await delay(1000);
        inFlight -= 1;
      },
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(5000);
    monitor.stop();
    expect(maxInFlight).toBe(1);
    expect(monitor.stats().received).toBe(4);
  });
});

describe("misses", () => {
  it("counts consecutive rejections and resets them on a pong", async () => {
    const script = ["reject", "reject", "pong", "reject", "pong"];
    const { monitor, events } = setup({
      maxMissed: 3,
      ping: (signal) => {
        const step = script.shift();
        if (step === "pong") return Promise.resolve();
        if (step === "reject") return Promise.reject(new Error("ECONNREFUSED"));
        return new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason)),
        );
      },
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(4600);
    monitor.stop();
    const misses = events.flatMap((e) =>
      e.type === "heartbeat_timeout" ? [[e.sequence, e.missed, e.cause]] : [],
    );
    expect(misses).toEqual([
      [1, 1, "rejected"],
      [2, 2, "rejected"],
      [4, 1, "rejected"],
    ]);
    expect(monitor.stats()).toMatchObject({ sent: 5, received: 2, missed: 0, totalMissed: 3 });
    expect(monitor.stats().lastLatencyMs).toBeGreaterThanOrEqual(0);
  });

  it("fails exactly once when maxMissed misses in a row are reached, then stops pinging", async () => {
    const ping = vi.fn(() => Promise.reject(new Error("down")));
    const { monitor, failures, types } = setup({ maxMissed: 3, ping });
    monitor.start();
    await vi.advanceTimersByTimeAsync(2100);
    expect(failures).toHaveLength(1);
    expect(monitor.state).toBe("failed");
    const failure = failures[0];
    expect(failure?.reason).toBe("max-missed");
    expect(failure?.missed).toBe(3);
    expect(failure?.lastCause).toBe("rejected");
    expect(isSnakepitError(failure?.error, "HEARTBEAT_FAILED")).toBe(true);
    expect(failure?.error.cause).toMatchObject({ message: "down" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ping).toHaveBeenCalledTimes(3);
    expect(failures).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(types().slice(-2)).toEqual(["heartbeat_timeout", "monitor_failure"]);
    monitor.stop();
    expect(monitor.state).toBe("failed");
    expect(types()).not.toContain("monitor_stopped");
  });

  it("fails at once when a ping gets no answer within timeoutMs, aborting its signal even if ping ignores it", async () => {
    let seen: AbortSignal | undefined;
    const { monitor, events, failures } = setup({
      timeoutMs: 700,
      ping: (signal) => {
        seen = signal;
        return new Promise(() => undefined); // ignores its signal on purpose
      },
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(699);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toMatchObject({ name: "TimeoutError" });
    expect(events.at(-2)).toMatchObject({ type: "heartbeat_timeout", missed: 1, cause: "timeout" });
    expect(events.at(-1)).toMatchObject({ type: "monitor_failure", reason: "timeout", missed: 1 });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ reason: "timeout", lastCause: "timeout" });
    expect(monitor.state).toBe("failed");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("counts a ping that throws synchronously as a miss", async () => {
    const { monitor, events } = setup({
      ping: () => {
        throw new Error("sync");
      },
    });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(events.at(-1)).toMatchObject({ type: "heartbeat_timeout", cause: "rejected" });
    monitor.stop();
  });
});

describe("stop()", () => {
  it("aborts the in-flight ping, clears every timer, emits monitor_stopped once", async () => {
    let seen: AbortSignal | undefined;
    const ping = vi.fn((signal: AbortSignal) => {
      seen = signal;
      return new Promise<void>(() => undefined);
    });
    const { monitor, types, failures } = setup({ ping, name: "worker-1" });
    monitor.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(vi.getTimerCount()).toBe(1); // the ping's timeout
    monitor.stop("pool closing");
    expect(seen?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    monitor.stop("again");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ping).toHaveBeenCalledTimes(1);
    expect(failures).toEqual([]);
    expect(types()).toEqual(["ping_sent", "monitor_stopped"]);
  });

  it("clears the pending next-ping timer between pings", async () => {
    const { monitor } = setup();
    monitor.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(vi.getTimerCount()).toBe(1); // the next ping
    monitor.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stops when the `signal` option aborts", async () => {
    const controller = new AbortController();
    const { monitor, events } = setup({ signal: controller.signal });
    monitor.start();
    controller.abort();
    expect(monitor.state).toBe("stopped");
    expect(events.at(-1)).toMatchObject({ type: "monitor_stopped", reason: "aborted" });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("state transitions", () => {
  it("idle → running → stopped", () => {
    const { monitor } = setup();
    expect(monitor.state).toBe("idle");
    monitor.start();
    expect(monitor.state).toBe("running");
    monitor.start();
    expect(monitor.state).toBe("running");
    monitor.stop();
    expect(monitor.state).toBe("stopped");
    monitor.start();
    expect(monitor.state).toBe("stopped");
  });

  it("idle → running → failed", async () => {
    const { monitor } = setup({ maxMissed: 1, ping: () => Promise.reject(new Error("x")) });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(monitor.state).toBe("failed");
  });

  it("idle → stopped without ever pinging", () => {
    const { monitor, types } = setup();
    monitor.stop();
    expect(monitor.state).toBe("stopped");
    expect(types()).toEqual(["monitor_stopped"]);
  });

  it("stays idle with enabled: false and never pings nor fails", async () => {
    const ping = vi.fn(() => Promise.reject(new Error("x")));
    const { monitor, failures } = setup({ enabled: false, ping });
    monitor.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(monitor.state).toBe("idle");
    expect(ping).not.toHaveBeenCalled();
    expect(failures).toEqual([]);
    monitor.stop();
    expect(monitor.state).toBe("stopped");
  });

  it("reports events in order with the monitor's name", async () => {
    const { monitor, events } = setup({ name: "w1", maxMissed: 1 });
    monitor.start();
    await vi.advanceTimersByTimeAsync(0);
    monitor.stop("done");
    expect(events.map((e) => [e.type, e.name])).toEqual([
      ["ping_sent", "w1"],
      ["pong_received", "w1"],
      ["monitor_stopped", "w1"],
    ]);
  });
});
