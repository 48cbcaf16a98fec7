import { isSnakepitError, type SnakepitError } from "@snakepit/errors";
import { describe, expect, it } from "vitest";
import { createHeartbeatMonitor } from "./heartbeat-monitor.js";
import {
  heartbeatDefaults,
  mergeHeartbeatOptions,
  resolveHeartbeatOptions,
} from "./heartbeat-options.js";

function thrown(fn: () => unknown): SnakepitError {
  try {
    fn();
  } catch (err) {
    if (isSnakepitError(err)) return err;
    throw err;
  }
  throw new Error("expected a throw");
}

const ping = async () => undefined;
const onFailure = () => undefined;

describe("heartbeat options", () => {
  it("resolves the defaults (Elixir Snakepit's values)", () => {
    expect(resolveHeartbeatOptions()).toEqual({
      enabled: true,
      intervalMs: 2000,
      timeoutMs: 10_000,
      maxMissed: 3,
      initialDelayMs: 0,
    });
    expect(heartbeatDefaults.intervalMs).toBe(2000);
  });

  it.each([
    [
      { intervalMs: 0 },
      "heartbeat.intervalMs",
      "Expected `heartbeat.intervalMs` to be a positive integer, got `0` (number)",
    ],
    [
      { timeoutMs: -5 },
      "heartbeat.timeoutMs",
      "Expected `heartbeat.timeoutMs` to be a positive integer, got `-5` (number)",
    ],
    [
      { timeoutMs: 1.5 },
      "heartbeat.timeoutMs",
      "Expected `heartbeat.timeoutMs` to be a positive integer, got `1.5` (number)",
    ],
    [
      { maxMissed: "3" },
      "heartbeat.maxMissed",
      'Expected `heartbeat.maxMissed` to be a positive integer, got `"3"` (string)',
    ],
    [
      { initialDelayMs: -1 },
      "heartbeat.initialDelayMs",
      "Expected `heartbeat.initialDelayMs` to be an integer >= 0, got `-1` (number)",
    ],
    [
      { intervalMs: 2 ** 31 },
      "heartbeat.intervalMs",
      "Expected `heartbeat.intervalMs` to be an integer <= 2147483647 (ms), got `2147483648` (number)",
    ],
    [
      { enabled: "yes" },
      "heartbeat.enabled",
      'Expected `heartbeat.enabled` to be a boolean, got `"yes"` (string)',
    ],
    [{ intervalMS: 5 }, "heartbeat.intervalMS", "Unknown option `heartbeat.intervalMS`"],
  ])("rejects %j naming %s", (partial, option, message) => {
    const err = thrown(() => resolveHeartbeatOptions(partial as never));
    expect(err.code).toBe("INVALID_OPTIONS");
    expect(err.details.option).toBe(option);
    expect(err.message).toContain(message);
  });

  it("merges per-pool overrides over global defaults; undefined means not set", () => {
    expect(
      mergeHeartbeatOptions(
        { intervalMs: 5000, maxMissed: 5 },
        { maxMissed: 2, timeoutMs: undefined },
      ),
    ).toEqual({
      enabled: true,
      intervalMs: 5000,
      timeoutMs: 10_000,
      maxMissed: 2,
      initialDelayMs: 0,
    });
    expect(mergeHeartbeatOptions({ enabled: true }, { enabled: false }).enabled).toBe(false);
  });

  it("names the path of the layer that is wrong", () => {
    const err = thrown(() => mergeHeartbeatOptions({}, { timeoutMs: 0 }, "pools.gpu.heartbeat"));
    expect(err.details.option).toBe("pools.gpu.heartbeat.timeoutMs");
  });

  it.each([
    [{ onFailure }, "heartbeat.ping"],
    [{ ping }, "heartbeat.onFailure"],
    [{ ping, onFailure, onEvent: 1 }, "heartbeat.onEvent"],
    [{ ping, onFailure, name: "" }, "heartbeat.name"],
    [{ ping, onFailure, signal: {} }, "heartbeat.signal"],
    [{ ping, onFailure, maxMissed: 0 }, "heartbeat.maxMissed"],
    [{ ping, onFailure, onfailure: onFailure }, "heartbeat.onfailure"],
  ])("createHeartbeatMonitor(%j) rejects %s with INVALID_OPTIONS", (options, option) => {
    const err = thrown(() => createHeartbeatMonitor(options as never));
    expect(err.code).toBe("INVALID_OPTIONS");
    expect(err.details.option).toBe(option);
  });
});
