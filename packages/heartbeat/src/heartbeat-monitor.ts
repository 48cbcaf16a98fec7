import { SnakepitError } from "@snakepit/errors";
import { expectString, invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";
import type { HeartbeatEvent, HeartbeatFailure, MissCause } from "./heartbeat-events.js";
import { type HeartbeatSettings, resolveHeartbeatOptions } from "./heartbeat-options.js";
import { type HeartbeatState, transitionHeartbeat } from "./heartbeat-state.js";

/** Options of {@link createHeartbeatMonitor}: the {@link HeartbeatSettings} plus callbacks. */
export interface HeartbeatMonitorOptions extends Partial<HeartbeatSettings> {
  /**
   * Sends one ping; resolve for a pong. Rejecting (or throwing) counts as a miss; `maxMissed`
   * misses in a row fail the monitor. A ping still pending after `timeoutMs` fails it at once. `signal` aborts when the
   * ping times out or the monitor stops; pass it on (e.g. `fetch(url, { signal })`). Required.
   */
  ping: (signal: AbortSignal) => Promise<unknown>;
  /** Called exactly once, when the peer is judged dead (see {@link HeartbeatFailure}). Required. */
  onFailure: (failure: HeartbeatFailure) => void;
  /** Observes every {@link HeartbeatEvent}; must not throw (errors are swallowed). Optional. */
  onEvent?: (event: HeartbeatEvent) => void;
  /** A label carried in every event and the failure, e.g. the worker id. Optional. */
  name?: string;
  /** Stops the monitor (reason `"aborted"`) when aborted. Optional. */
  signal?: AbortSignal;
}

/** Counters of a monitor, from {@link HeartbeatMonitor.stats}. */
export interface HeartbeatStats {
  /** Pings started. */
  readonly sent: number;
  /** Pongs received in time. */
  readonly received: number;
  /** Consecutive misses now (reset to 0 by a pong). */
  readonly missed: number;
  /** Misses since start. */
  readonly totalMissed: number;
  /** Latency of the last pong in milliseconds, or `undefined` before the first. */
  readonly lastLatencyMs: number | undefined;
  /** Epoch milliseconds of the last pong, or `undefined` before the first. */
  readonly lastPongAt: number | undefined;
}

/** A heartbeat monitor for anything that can be pinged. See {@link createHeartbeatMonitor}. */
export interface HeartbeatMonitor {
  /** Starts pinging (after `initialDelayMs`). No-op when running or when `enabled` is false. */
  start(): void;
  /**
   * Stops now: clears every timer, aborts an in-flight ping, emits `monitor_stopped`.
   * Idempotent; a no-op on a failed monitor. `reason` defaults to `"stopped"`.
   */
  stop(reason?: string): void;
  /** The current state; see {@link HeartbeatState} for the transitions. */
  readonly state: HeartbeatState;
  /** A snapshot of the counters. */
  stats(): HeartbeatStats;
}

const optionKeys = [
  "enabled",
  "intervalMs",
  "timeoutMs",
  "maxMissed",
  "initialDelayMs",
  "ping",
  "onFailure",
  "onEvent",
  "name",
  "signal",
];

function expectFunction(path: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== "function") throw invalidOption(path, "a function", value);
}

type PingOutcome = { kind: "pong" } | { kind: "miss"; cause: MissCause; error: unknown };

/**
 * Creates a heartbeat monitor: pings with `ping(signal)` and calls `onFailure` once when the
 * peer is judged dead: at once when a ping gets no answer within `timeoutMs` (a hung or frozen
 * peer), or when `maxMissed` pings in a row are rejected (a peer that stays unreachable; a pong
 * resets the count). Knows nothing about Python or gRPC.
 *
 * Cadence: the next ping starts `intervalMs` after the previous one settled (pong, rejection
 * or timeout), so pings never overlap and a slow peer is never sent a backlog; the period is
 * RTT + `intervalMs`, like Elixir Snakepit. Worst-case detection of a hung peer is
 * `intervalMs + timeoutMs` after it hangs; of a dead peer whose pings reject at once, about
 * `(maxMissed − 1) × intervalMs`.
 *
 * Options are validated at once (`INVALID_OPTIONS`, naming the option). Timers are unref'd
 * and never outlive `stop()` or the failure.
 */
export function createHeartbeatMonitor(options: HeartbeatMonitorOptions): HeartbeatMonitor {
  if (typeof options !== "object" || options === null) {
    throw invalidOption("heartbeat", "an object", options);
  }
  rejectUnknownKeys(options, optionKeys, "heartbeat");
  const { ping, onFailure, onEvent, name, signal, ...settings } = options;
  expectFunction("heartbeat.ping", ping, true);
  expectFunction("heartbeat.onFailure", onFailure, true);
  expectFunction("heartbeat.onEvent", onEvent, false);
  if (name !== undefined) expectString("heartbeat.name", name);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption("heartbeat.signal", "an AbortSignal", signal);
  }
  const config = resolveHeartbeatOptions(settings);

  let state: HeartbeatState = "idle";
  // Owns the monitor's life: the next-ping timer and the in-flight ping listen to it.
  let life: AbortController | undefined;
  let nextPing: NodeJS.Timeout | undefined;
  let sequence = 0;
  let received = 0;
  let missed = 0;
  let totalMissed = 0;
  let lastLatencyMs: number | undefined;
  let lastPongAt: number | undefined;

  const onOuterAbort = () => stop("aborted");

  function emit(event: HeartbeatEvent): void {
    try {
      onEvent?.(event);
    } catch {
      // Events are for observation; a broken listener must not break the monitor.
    }
  }

  function teardown(reason: unknown): void {
    if (nextPing !== undefined) clearTimeout(nextPing);
    nextPing = undefined;
    life?.abort(reason);
    life = undefined;
    signal?.removeEventListener("abort", onOuterAbort);
  }

  function schedule(delayMs: number): void {
    nextPing = setTimeout(() => {
      nextPing = undefined;
      void beat();
    }, delayMs);
    nextPing.unref();
  }

  /** Runs one ping with its own controller, which owns its timeout; settles, never rejects. */
  async function runPing(lifeSignal: AbortSignal): Promise<PingOutcome> {
    const controller = new AbortController();
    const stopPing = () => controller.abort(lifeSignal.reason);
    lifeSignal.addEventListener("abort", stopPing, { once: true });
    const timer = setTimeout(() => {
      controller.abort(
        new DOMException(`Ping timed out after ${config.timeoutMs} ms`, "TimeoutError"),
      );
    }, config.timeoutMs);
    timer.unref();
    // Cleared synchronously on any abort, so stop() leaves no timer behind even for a tick.
    controller.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    // A ping that ignores its signal still loses the race against the abort.
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
        once: true,
      });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([Promise.resolve().then(() => ping(controller.signal)), aborted]);
      return { kind: "pong" };
    } catch (error) {
      const timedOut = controller.signal.aborted && !lifeSignal.aborted;
      return { kind: "miss", cause: timedOut ? "timeout" : "rejected", error };
    } finally {
      clearTimeout(timer);
      lifeSignal.removeEventListener("abort", stopPing);
      controller.abort();
    }
  }

  async function beat(): Promise<void> {
    const lifeSignal = life?.signal;
    if (state !== "running" || lifeSignal === undefined) return;
    sequence += 1;
    const seq = sequence;
    emit({ type: "ping_sent", name, sequence: seq });
    const startedAt = performance.now();
    const outcome = await runPing(lifeSignal);
    // stop() while the ping was in flight: it already reported; nothing more to count.
    if (state !== "running" || lifeSignal.aborted) return;
    if (outcome.kind === "pong") {
      received += 1;
      missed = 0;
      lastLatencyMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
      lastPongAt = Date.now();
      emit({ type: "pong_received", name, sequence: seq, latencyMs: lastLatencyMs });
      schedule(config.intervalMs);
      return;
    }
    missed += 1;
    totalMissed += 1;
    emit({
      type: "heartbeat_timeout",
      name,
      sequence: seq,
      missed,
      cause: outcome.cause,
      error: outcome.error,
    });
    // A ping unanswered for timeoutMs means a hung or frozen peer: fail now, so detection takes
    // at most intervalMs + timeoutMs. Rejections (a peer briefly unreachable) count to maxMissed.
    if (outcome.cause === "rejected" && missed < config.maxMissed) {
      schedule(config.intervalMs);
      return;
    }
    fail(outcome.cause, outcome.error);
  }

  function fail(lastCause: MissCause, cause: unknown): void {
    state = transitionHeartbeat(state, "failed");
    const reason = lastCause === "timeout" ? "timeout" : "max-missed";
    const who = name === undefined ? "" : ` of ${name}`;
    const message =
      reason === "timeout"
        ? `A heartbeat${who} got no answer within ${config.timeoutMs} ms`
        : `${missed} heartbeats${who} in a row were rejected`;
    const error = new SnakepitError("HEARTBEAT_FAILED", message, {
      cause,
      details: { reason, missed, lastCause, name },
    });
    teardown(error);
    emit({ type: "monitor_failure", name, reason, missed });
    try {
      onFailure({ reason, missed, lastCause, error, name });
    } catch {
      // The failure has been delivered; a throwing handler cannot un-deliver it.
    }
  }

  function start(): void {
    if (state !== "idle" || !config.enabled) return;
    if (signal?.aborted) {
      stop("aborted");
      return;
    }
    state = transitionHeartbeat(state, "running");
    life = new AbortController();
    signal?.addEventListener("abort", onOuterAbort, { once: true });
    schedule(config.initialDelayMs);
  }

  function stop(reason = "stopped"): void {
    if (state === "stopped" || state === "failed") return;
    state = transitionHeartbeat(state, "stopped");
    teardown(new SnakepitError("ABORTED", `Heartbeat monitor stopped: ${reason}`));
    emit({ type: "monitor_stopped", name, reason });
  }

  return {
    start,
    stop,
    get state() {
      return state;
    },
    stats: () => ({
      sent: sequence,
      received,
      missed,
      totalMissed,
      lastLatencyMs,
      lastPongAt,
    }),
  };
}
