import {
  expectBoolean,
  expectInteger,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors/internal";

/**
 * The tunable numbers of a heartbeat monitor: plain data, so a pool can keep global defaults,
 * merge per-pool overrides over them ({@link mergeHeartbeatOptions}) and validate once.
 */
export interface HeartbeatSettings {
  /**
   * Whether the monitor pings at all. When `false`, `start()` leaves the monitor `idle` and it
   * never fails. Default `true`.
   */
  enabled: boolean;
  /**
   * Milliseconds between the end of one ping (pong, rejection or timeout) and the start of the
   * next. Default `2000` ms.
   */
  intervalMs: number;
  /**
   * Milliseconds a ping may take. A ping still pending after this fails the monitor at once
   * (a hung or frozen peer) and its `signal` is aborted (reason: a `TimeoutError`
   * `DOMException`). Default `10000` ms.
   */
  timeoutMs: number;
  /** Consecutive rejected pings that make the monitor fail. Default `3`. */
  maxMissed: number;
  /** Milliseconds from `start()` to the first ping. Default `0` ms. */
  initialDelayMs: number;
}

/** The defaults of {@link HeartbeatSettings}: the values Elixir Snakepit uses. */
export const heartbeatDefaults: Readonly<HeartbeatSettings> = Object.freeze({
  enabled: true,
  intervalMs: 2000,
  timeoutMs: 10_000,
  maxMissed: 3,
  initialDelayMs: 0,
});

const settingKeys = Object.keys(heartbeatDefaults) as (keyof HeartbeatSettings)[];

// setTimeout() fires at once for delays above 2^31 - 1 ms, so larger values are rejected.
const MAX_DELAY_MS = 2_147_483_647;

function expectDelay(path: string, value: unknown, min: number): number {
  const n = expectInteger(path, value, min);
  if (n > MAX_DELAY_MS) throw invalidOption(path, `an integer <= ${MAX_DELAY_MS} (ms)`, value);
  return n;
}

/** Validates one setting; `path` names it in the error (e.g. `heartbeat.timeoutMs`). */
function validateSetting(key: keyof HeartbeatSettings, value: unknown, path: string): unknown {
  switch (key) {
    case "enabled":
      return expectBoolean(path, value);
    case "intervalMs":
    case "timeoutMs":
    case "maxMissed":
      return expectDelay(path, value, 1);
    case "initialDelayMs":
      return expectDelay(path, value, 0);
  }
}

/**
 * Validates `partial` and fills in the defaults: the one place heartbeat defaults are
 * resolved. Keys set to `undefined` count as not set. Unknown keys, and values of the wrong
 * type or range, throw a `SnakepitError` with code `INVALID_OPTIONS` that names the option as
 * `` `<path>.<key>` ``.
 */
export function resolveHeartbeatOptions(
  partial: Partial<HeartbeatSettings> = {},
  path = "heartbeat",
): HeartbeatSettings {
  return mergeHeartbeatOptions(heartbeatDefaults, partial, path);
}

/**
 * Merges per-pool overrides over global defaults (both partial, both validated; `undefined`
 * means "not set") and fills in the built-in defaults. Errors name the option under `path`.
 */
export function mergeHeartbeatOptions(
  globalDefaults: Partial<HeartbeatSettings> = {},
  overrides: Partial<HeartbeatSettings> = {},
  path = "heartbeat",
): HeartbeatSettings {
  const resolved: Record<string, unknown> = { ...heartbeatDefaults };
  for (const layer of [globalDefaults, overrides]) {
    if (typeof layer !== "object" || layer === null) throw invalidOption(path, "an object", layer);
    rejectUnknownKeys(layer, settingKeys, path);
    for (const key of settingKeys) {
      const value = layer[key];
      if (value !== undefined) resolved[key] = validateSetting(key, value, `${path}.${key}`);
    }
  }
  return resolved as unknown as HeartbeatSettings;
}
