import { availableParallelism } from "node:os";
import type { TracerProvider } from "@opentelemetry/api";
import {
  expectBoolean,
  expectInteger,
  expectString,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors/internal";
import type { HeartbeatSettings } from "@snakepit/heartbeat";
import { resolveHeartbeatOptions } from "@snakepit/heartbeat/internal";
import { type RecyclePolicy, validateRecyclePolicy } from "@snakepit/lifecycle";
import { recyclePolicyKeys } from "@snakepit/lifecycle/internal";
import { limits } from "@snakepit/python-bridge/internal";
import { type LifelineOptions, resolveLifelines } from "./lifeline-options.js";
import type { Logger } from "./logger.js";
import { silentLogger } from "./logger.js";
import { optionalObject } from "./optional-object.js";
import type { PoolOptions } from "./pool-options.js";
import type { AffinityMode } from "./pool-types.js";

/** {@link PoolOptions} with every default filled in. */
export interface ResolvedPoolOptions {
  readonly adapter: string;
  readonly name: string;
  readonly size: number;
  readonly pythonExecutable: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly inheritEnv: boolean | readonly string[];
  readonly cwd: string | undefined;
  readonly startTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly timeoutMs: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly profile: "process" | "thread";
  /** Calls one worker holds at once: `pipelineDepth` for `process`, `threadsPerWorker` for `thread`. */
  readonly capacity: number;
  /**
   * True when `pipelineDepth` was left to its default: a worker's window is then `capacity` only
   * while its calls are quick, else 1 (see `QUICK_CALL_MS`). A depth set explicitly is kept as is.
   */
  readonly adaptiveWindow: boolean;
  /** Calls one worker's Python runs at once: 1 for `process`, `threadsPerWorker` for `thread`. */
  readonly concurrency: number;
  readonly minReady: number;
  readonly affinity: AffinityMode;
  readonly retries: number;
  readonly handleSignals: boolean;
  readonly logger: Logger;
  readonly heartbeat: HeartbeatSettings;
  readonly lifelines: Required<LifelineOptions>;
  readonly recycle: RecyclePolicy;
  readonly startMode: "spawn" | "fork";
  readonly preload: readonly string[];
  readonly transport: "frames" | "grpc";
  readonly maxMessageBytes: number;
  readonly memorySampleIntervalMs: number;
  readonly healthCheckIntervalMs: number;
  /** `undefined` when the registry is off. */
  readonly registry:
    | { readonly dataDir: string | undefined; readonly sweepOnStart: boolean }
    | undefined;
  readonly tracerProvider: TracerProvider | undefined;
}

const KNOWN = [
  "adapter",
  "name",
  "size",
  "pythonExecutable",
  "env",
  "inheritEnv",
  "cwd",
  "startTimeoutMs",
  "shutdownGraceMs",
  "timeoutMs",
  "maxQueue",
  "queueTimeoutMs",
  "cancelGraceMs",
  "profile",
  "threadsPerWorker",
  "pipelineDepth",
  "minReady",
  "affinity",
  "retries",
  "handleSignals",
  "logger",
  "heartbeat",
  "lifelines",
  "recycle",
  "registry",
  "startMode",
  "preload",
  "transport",
  "maxMessageBytes",
  "tracerProvider",
];
const AFFINITY_MODES: readonly AffinityMode[] = ["hint", "strict-queue", "strict-fail-fast"];

function resolveRecycle(
  value: unknown,
): Pick<ResolvedPoolOptions, "recycle" | "memorySampleIntervalMs" | "healthCheckIntervalMs"> {
  const v =
    optionalObject("recycle", value, [
      ...recyclePolicyKeys,
      "memorySampleIntervalMs",
      "healthCheckIntervalMs",
    ]) ?? {};
  const { memorySampleIntervalMs, healthCheckIntervalMs, ...policy } = v;
  const healthCheck =
    healthCheckIntervalMs === undefined
      ? 30_000
      : expectInteger("recycle.healthCheckIntervalMs", healthCheckIntervalMs, 0);
  const recycle = validateRecyclePolicy(
    { ...(healthCheck > 0 ? { unhealthyAfter: 3 } : {}), ...policy },
    "recycle",
  );
  return {
    recycle,
    memorySampleIntervalMs:
      memorySampleIntervalMs === undefined
        ? 5000
        : expectInteger("recycle.memorySampleIntervalMs", memorySampleIntervalMs, 1),
    healthCheckIntervalMs: healthCheck,
  };
}

function resolvePreload(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidOption("preload", "an array of module names", value);
  return value.map((m, i) => expectString(`preload[${i}]`, m));
}

/**
 * An option with a few allowed strings, whose default may come from an environment variable:
 * `value`, else `process.env[env]`, else `fallback`. A bad value names the option (or the
 * variable, when that is where it came from).
 */
function resolveChoice<T extends string>(
  value: unknown,
  option: string,
  env: string,
  choices: readonly T[],
  fallback: T,
): T {
  const chosen = value ?? process.env[env] ?? fallback;
  if (!(choices as readonly unknown[]).includes(chosen))
    throw invalidOption(
      value === undefined ? env : option,
      choices.map((c) => `\`"${c}"\``).join(" or "),
      chosen,
    );
  return chosen as T;
}

function resolveRegistry(value: unknown): ResolvedPoolOptions["registry"] {
  if (value === false) return undefined;
  const v = optionalObject("registry", value, ["dataDir", "sweepOnStart"]) ?? {};
  return {
    dataDir: v.dataDir === undefined ? undefined : expectString("registry.dataDir", v.dataDir),
    sweepOnStart:
      v.sweepOnStart === undefined ? true : expectBoolean("registry.sweepOnStart", v.sweepOnStart),
  };
}

function resolveTracerProvider(value: unknown): TracerProvider | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as { getTracer?: unknown } | null)?.getTracer !== "function")
    throw invalidOption("tracerProvider", "an OpenTelemetry TracerProvider", value);
  return value as TracerProvider;
}

/** Validates `options` at the door (unknown keys are errors) and fills in the defaults, in one place. */
export function resolvePoolOptions(options: PoolOptions): ResolvedPoolOptions {
  if (typeof options !== "object" || options === null)
    throw invalidOption("options", "an object", options);
  rejectUnknownKeys(options, KNOWN);
  const o = options as Partial<PoolOptions>;
  const name = o.name === undefined ? "default" : expectString("name", o.name);
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw invalidOption("name", "letters, digits, `_`, `.` or `-`", name);
  if (o.env !== undefined && (typeof o.env !== "object" || o.env === null))
    throw invalidOption("env", "an object of strings", o.env);
  const inheritEnv = o.inheritEnv === undefined ? true : o.inheritEnv;
  if (
    typeof inheritEnv !== "boolean" &&
    !(
      Array.isArray(inheritEnv) &&
      inheritEnv.every((n: unknown) => typeof n === "string" && /^[^=\0]+$/.test(n))
    )
  )
    throw invalidOption("inheritEnv", "a boolean or an array of variable names", inheritEnv);
  if (o.logger !== undefined && typeof (o.logger as Logger).child !== "function")
    throw invalidOption("logger", "a pino-compatible logger", o.logger);
  const int = (key: keyof PoolOptions, fallback: number, min: number) =>
    o[key] === undefined ? fallback : expectInteger(key, o[key], min);
  const size =
    o.size === undefined ? Math.max(1, availableParallelism()) : expectInteger("size", o.size, 1);
  if (o.profile !== undefined && o.profile !== "process" && o.profile !== "thread")
    throw invalidOption("profile", '`"process"` or `"thread"`', o.profile);
  const profile = o.profile ?? "process";
  if (o.threadsPerWorker !== undefined && profile !== "thread")
    throw invalidOption(
      "threadsPerWorker",
      'used only with `profile: "thread"`',
      o.threadsPerWorker,
    );
  if (o.affinity !== undefined && !AFFINITY_MODES.includes(o.affinity))
    throw invalidOption(
      "affinity",
      `one of ${AFFINITY_MODES.map((m) => `"${m}"`).join(", ")}`,
      o.affinity,
    );
  if (o.pipelineDepth !== undefined && profile !== "process")
    throw invalidOption("pipelineDepth", 'used only with `profile: "process"`', o.pipelineDepth);
  const transport = resolveChoice(
    o.transport,
    "transport",
    "SNAKEPIT_TRANSPORT",
    ["frames", "grpc"],
    "frames",
  );
  // A gRPC worker admits 2 × its concurrency + 2 calls; a frames worker, a whole window.
  const maxDepth = transport === "grpc" ? 4 : limits.maxPipelineDepth;
  if (
    o.pipelineDepth !== undefined &&
    expectInteger("pipelineDepth", o.pipelineDepth, 1) > maxDepth
  )
    throw invalidOption(
      "pipelineDepth",
      `an integer from 1 to ${maxDepth} (transport "${transport}")`,
      o.pipelineDepth,
    );
  const minReady = int("minReady", size, 1);
  if (minReady > size) throw invalidOption("minReady", `at most \`size\` (${size})`, minReady);
  return {
    adapter: expectString("adapter", o.adapter),
    name,
    size,
    pythonExecutable:
      o.pythonExecutable === undefined
        ? undefined
        : expectString("pythonExecutable", o.pythonExecutable),
    env: o.env ?? {},
    inheritEnv,
    cwd: o.cwd === undefined ? undefined : expectString("cwd", o.cwd),
    startTimeoutMs: int("startTimeoutMs", 30_000, 1),
    shutdownGraceMs: int("shutdownGraceMs", 2000, 0),
    timeoutMs: int("timeoutMs", 0, 0),
    maxQueue: int("maxQueue", 1000, 0),
    queueTimeoutMs: int("queueTimeoutMs", 0, 0),
    cancelGraceMs: int("cancelGraceMs", 2000, 0),
    profile,
    capacity:
      profile === "thread"
        ? int("threadsPerWorker", 4, 1)
        : int("pipelineDepth", transport === "grpc" ? 1 : 32, 1),
    adaptiveWindow: profile === "process" && o.pipelineDepth === undefined && transport !== "grpc",
    concurrency: profile === "thread" ? int("threadsPerWorker", 4, 1) : 1,
    minReady,
    affinity: o.affinity ?? "hint",
    retries: int("retries", 1, 0),
    handleSignals:
      o.handleSignals === undefined ? false : expectBoolean("handleSignals", o.handleSignals),
    logger: o.logger ?? silentLogger,
    heartbeat:
      o.heartbeat === false
        ? { ...resolveHeartbeatOptions({}), enabled: false }
        : resolveHeartbeatOptions(o.heartbeat ?? {}, "heartbeat"),
    lifelines: resolveLifelines(o.lifelines),
    ...resolveRecycle(o.recycle),
    startMode: resolveChoice(
      o.startMode,
      "startMode",
      "SNAKEPIT_START_MODE",
      ["spawn", "fork"],
      "spawn",
    ),
    preload: resolvePreload(o.preload),
    transport,
    maxMessageBytes: int("maxMessageBytes", 100 * 1024 * 1024, 1),
    registry: resolveRegistry(o.registry),
    tracerProvider: resolveTracerProvider(o.tracerProvider),
  };
}
