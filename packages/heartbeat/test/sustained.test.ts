import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createHeartbeatMonitor, type HeartbeatEvent } from "../src/index.js";

describe("sustained run (real time)", () => {
  it("never declares a healthy peer missed over ~1.5 s at a 10 ms interval, and reports latency", async () => {
    const events: HeartbeatEvent[] = [];
    const monitor = createHeartbeatMonitor({
      intervalMs: 10,
      timeoutMs: 1000,
      ping: () => nextTurn(),
      onEvent: (e) => events.push(e),
      onFailure: () => expect.unreachable(),
    });
    monitor.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    monitor.stop();
    const stats = monitor.stats();
    expect(stats.received).toBeGreaterThanOrEqual(30);
    expect(stats.sent - stats.received).toBeLessThanOrEqual(1); // at most the one stop() aborted
    expect(stats.totalMissed).toBe(0);
    expect(stats.lastLatencyMs).toBeGreaterThanOrEqual(0);
    expect(events.filter((e) => e.type === "heartbeat_timeout")).toEqual([]);
    expect(events.at(-1)?.type).toBe("monitor_stopped");
  });
});
