import { setMaxListeners } from "node:events";
import { SnakepitError } from "@snakepit/errors";
import { expectInteger, invalidOption, rejectUnknownKeys } from "@snakepit/errors/internal";
import { decideRecycle } from "./decide-recycle.js";
import {
  type RecycleDecision,
  type RecyclePolicy,
  validateRecyclePolicy,
  type WorkerFacts,
} from "./recycle-policy.js";
import { type MemorySample, sampleMemory } from "./sample-memory.js";
import { type SchedulerState, transitionScheduler } from "./scheduler-state.js";

/** A decision to recycle. */
export type RecycleRequest = Extract<RecycleDecision, { recycle: true }>;

/** Options of {@link createLifecycleScheduler}. */
export interface LifecycleSchedulerOptions {
  /**
   * Returns the caller's authoritative worker table, read on every check. The scheduler keeps
   * no counters of its own. Required.
   */
  list: () => readonly WorkerFacts[];
  /** When to recycle; validated at creation. Required. */
  policy: RecyclePolicy;
  /**
   * Called once per worker when it should be recycled; not again for that worker until it has
   * left `list()`. Recycling itself (drain, then swap) is the caller's job. Required.
   */
  onRecycle: (workerId: string, decision: RecycleRequest) => void;
  /**
   * Measures one worker. Default: {@link sampleMemory} of `facts.pid` with its children (RSS),
   * or nothing when `pid` is absent. Memory is sampled only when `policy.maxRssBytes` or
   * `onSample` is set.
   */
  sample?: (facts: WorkerFacts, signal: AbortSignal) => Promise<MemorySample | undefined>;
  /** Receives every memory sample, e.g. for per-worker stats. Optional. */
  onSample?: (workerId: string, sample: MemorySample) => void;
  /** Milliseconds between memory samples of one worker: a few seconds, not PM2's 30. Default `5000` ms. */
  intervalMs?: number;
  /** Milliseconds between checks (decisions on fresh `list()` facts; cheap). Default `1000` ms. */
  checkIntervalMs?: number;
  /** Receives errors from `list`, `sample`, `policy.shouldRecycle` or `onRecycle`; default: ignored. */
  onError?: (error: SnakepitError) => void;
}

/** Runs recycle checks on a timer. See {@link createLifecycleScheduler}. */
export interface LifecycleScheduler {
  /** Starts checking: once now, then every `checkIntervalMs`. No-op unless `idle`. */
  start(): void;
  /** Stops: clears the timer, aborts in-flight samples, waits for a running check. Idempotent. */
  stop(): Promise<void>;
  /** The current state; see {@link SchedulerState}. */
  readonly state: SchedulerState;
  /**
   * Runs one check now (after any check in progress; checks never overlap) and returns one
   * decision per listed worker. Rejects with `ABORTED` when `signal` aborts or the scheduler
   * is stopped.
   */
  checkNow(signal?: AbortSignal): Promise<RecycleDecision[]>;
}

const optionKeys = [
  "list",
  "policy",
  "onRecycle",
  "sample",
  "onSample",
  "intervalMs",
  "checkIntervalMs",
  "onError",
];
const MAX_DELAY_MS = 2_147_483_647;

function expectFunction(path: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== "function") throw invalidOption(path, "a function", value);
}

function expectDelay(path: string, value: unknown): number {
  const n = expectInteger(path, value, 1);
  if (n > MAX_DELAY_MS) throw invalidOption(path, `an integer <= ${MAX_DELAY_MS} (ms)`, value);
  return n;
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (a sample that ignores it cannot hold up stop()). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

const defaultSample = (facts: WorkerFacts, signal: AbortSignal) =>
  facts.pid === undefined ? Promise.resolve(undefined) : sampleMemory(facts.pid, { signal });

/**
 * Creates a scheduler that asks {@link decideRecycle} about every worker of `list()` each
 * `checkIntervalMs`, samples each worker's memory every `intervalMs` (merged into its facts
 * when newer than the caller's), and calls `onRecycle` once per worker that should go. Checks
 * never overlap; timers are unref'd and never outlive `stop()`.
 */
export function createLifecycleScheduler(options: LifecycleSchedulerOptions): LifecycleScheduler {
  if (typeof options !== "object" || options === null) {
    throw invalidOption("lifecycle", "an object", options);
  }
  rejectUnknownKeys(options, optionKeys, "lifecycle");
  expectFunction("lifecycle.list", options.list, true);
  expectFunction("lifecycle.onRecycle", options.onRecycle, true);
  expectFunction("lifecycle.sample", options.sample, false);
  expectFunction("lifecycle.onSample", options.onSample, false);
  expectFunction("lifecycle.onError", options.onError, false);
  const policy = validateRecyclePolicy(options.policy, "lifecycle.policy");
  const intervalMs = expectDelay("lifecycle.intervalMs", options.intervalMs ?? 5000);
  const checkIntervalMs = expectDelay("lifecycle.checkIntervalMs", options.checkIntervalMs ?? 1000);
  const { list, onRecycle, onSample } = options;
  const sample = options.sample ?? defaultSample;
  const sampling = policy.maxRssBytes !== undefined || onSample !== undefined;

  let state: SchedulerState = "idle";
  const life = new AbortController();
  // Each worker's memory sample in progress listens on it (a pool of 100 samples 100 at once).
  setMaxListeners(0, life.signal);
  let timer: NodeJS.Timeout | undefined;
  // Serialises checks: each one starts after the previous settled.
  let queue: Promise<unknown> = Promise.resolve();
  let stopped: Promise<void> | undefined;
  // Not counters: caches keyed by worker id, pruned to the ids of the latest list().
  const requested = new Set<string>();
  const memory = new Map<string, { attemptedAt: number; sample: MemorySample | undefined }>();

  function report(err: unknown, code: "INTERNAL" = "INTERNAL"): void {
    try {
      options.onError?.(SnakepitError.from(err, code));
    } catch {
      // an error handler that throws has nowhere left to report to
    }
  }

  async function sampleDue(workers: readonly WorkerFacts[], signal: AbortSignal): Promise<void> {
    const now = Date.now();
    const due = workers.filter((w) => {
      const last = memory.get(w.workerId);
      return last === undefined || now - last.attemptedAt >= intervalMs;
    });
    await Promise.all(
      due.map(async (w) => {
        const previous = memory.get(w.workerId)?.sample;
        memory.set(w.workerId, { attemptedAt: now, sample: previous });
        try {
          const taken = await untilAborted(sample(w, signal), signal);
          memory.set(w.workerId, { attemptedAt: now, sample: taken });
          if (taken !== undefined) onSample?.(w.workerId, taken);
        } catch (err) {
          if (!signal.aborted) report(err);
        }
      }),
    );
  }

  function withSample(w: WorkerFacts): WorkerFacts {
    const taken = memory.get(w.workerId)?.sample;
    if (taken === undefined) return w;
    if (w.memorySampledAt !== undefined && w.memorySampledAt >= taken.sampledAt) return w;
    return { ...w, memoryBytes: taken.bytes, memorySampledAt: taken.sampledAt };
  }

  async function check(signal: AbortSignal): Promise<RecycleDecision[]> {
    let workers: readonly WorkerFacts[];
    try {
      workers = list();
    } catch (err) {
      report(err);
      return [];
    }
    const ids = new Set(workers.map((w) => w.workerId));
    for (const id of requested) if (!ids.has(id)) requested.delete(id);
    for (const id of memory.keys()) if (!ids.has(id)) memory.delete(id);
    if (sampling) await sampleDue(workers, signal);
    if (signal.aborted)
      throw new SnakepitError("ABORTED", "Lifecycle check aborted", { cause: signal.reason });
    const now = Date.now();
    const decisions = workers.map((w): RecycleDecision => {
      try {
        return decideRecycle(withSample(w), policy, now);
      } catch (err) {
        report(err); // a throwing shouldRecycle
        return { workerId: w.workerId, recycle: false };
      }
    });
    for (const d of decisions) {
      if (!d.recycle || requested.has(d.workerId)) continue;
      requested.add(d.workerId);
      try {
        onRecycle(d.workerId, d);
      } catch (err) {
        report(err);
      }
    }
    return decisions;
  }

  function enqueue(signal?: AbortSignal): Promise<RecycleDecision[]> {
    // One controller per check: the scheduler's life and the caller's signal both abort it.
    const op = signal === undefined ? life.signal : AbortSignal.any([life.signal, signal]);
    const run = queue.then(() => {
      if (op.aborted) {
        throw new SnakepitError("ABORTED", "Lifecycle check aborted", { cause: op.reason });
      }
      return check(op);
    });
    queue = run.catch(() => undefined);
    return run;
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      timer = undefined;
      enqueue()
        .catch(() => undefined) // only ABORTED: stop() ran
        .finally(() => {
          if (state === "running") schedule(checkIntervalMs);
        });
    }, delayMs);
    timer.unref();
  }

  return {
    start() {
      if (state !== "idle") return;
      state = transitionScheduler(state, "running");
      schedule(0);
    },
    stop() {
      if (stopped !== undefined) return stopped;
      state = transitionScheduler(state, "stopped");
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      life.abort(new SnakepitError("ABORTED", "Lifecycle scheduler stopped"));
      stopped = queue.then(() => undefined);
      return stopped;
    },
    get state() {
      return state;
    },
    checkNow: (signal) => enqueue(signal),
  };
}
