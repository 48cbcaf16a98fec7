import { availableParallelism } from "node:os";
import {
  expectBoolean,
  expectInteger,
  expectString,
  invalidOption,
  rejectUnknownKeys,
} from "@snakepit/errors";
import type { Logger } from "./logger.js";
import { silentLogger } from "./logger.js";

/** Options of {@link createPool}. */
export interface PoolOptions {
  /** The Python adapter: `package.module:Class`, `package.module`, `path/to/file.py[:Class]`. Required. */
  readonly adapter: string;
  /** A name for logs, worker ids and stats. Default `"default"`. */
  readonly name?: string;
  /** Number of worker processes. Default: the number of CPUs (at least 1). */
  readonly size?: number;
  /** The Python interpreter. Default: `$SNAKEPIT_PYTHON`, else a venv Snakepit creates in its cache dir. */
  readonly pythonExecutable?: string;
  /** Extra environment for the workers. `undefined` values remove a variable. Default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Working directory of the workers. Default: the host's. */
  readonly cwd?: string;
  /** How long a worker may take to become ready, in milliseconds. Default 30000. */
  readonly startTimeoutMs?: number;
  /** How long a stopping worker gets between SIGTERM and SIGKILL, in milliseconds. Default 2000. */
  readonly shutdownGraceMs?: number;
  /** Default deadline of a call from dispatch, in milliseconds; 0 means none. Default 0. */
  readonly timeoutMs?: number;
  /** A pino-compatible logger. Default: silent. */
  readonly logger?: Logger;
  /** Linux parent-death signal for workers (orphan layer 2). Default true. */
  readonly parentDeathSignal?: boolean;
}

/** {@link PoolOptions} with every default filled in. */
export type ResolvedPoolOptions = Required<Omit<PoolOptions, "pythonExecutable" | "cwd">> &
  Pick<PoolOptions, "pythonExecutable" | "cwd">;

const KNOWN = [
  "adapter",
  "name",
  "size",
  "pythonExecutable",
  "env",
  "cwd",
  "startTimeoutMs",
  "shutdownGraceMs",
  "timeoutMs",
  "logger",
  "parentDeathSignal",
];

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
  if (o.logger !== undefined && typeof (o.logger as Logger).child !== "function")
    throw invalidOption("logger", "a pino-compatible logger", o.logger);
  return {
    adapter: expectString("adapter", o.adapter),
    name,
    size:
      o.size === undefined ? Math.max(1, availableParallelism()) : expectInteger("size", o.size, 1),
    pythonExecutable:
      o.pythonExecutable === undefined
        ? undefined
        : expectString("pythonExecutable", o.pythonExecutable),
    env: o.env ?? {},
    cwd: o.cwd === undefined ? undefined : expectString("cwd", o.cwd),
    startTimeoutMs:
      o.startTimeoutMs === undefined
        ? 30_000
        : expectInteger("startTimeoutMs", o.startTimeoutMs, 1),
    shutdownGraceMs:
      o.shutdownGraceMs === undefined
        ? 2000
        : expectInteger("shutdownGraceMs", o.shutdownGraceMs, 0),
    timeoutMs: o.timeoutMs === undefined ? 0 : expectInteger("timeoutMs", o.timeoutMs, 0),
    logger: o.logger ?? silentLogger,
    parentDeathSignal:
      o.parentDeathSignal === undefined
        ? true
        : expectBoolean("parentDeathSignal", o.parentDeathSignal),
  };
}
