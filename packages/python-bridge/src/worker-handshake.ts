import { type ErrorCode, SnakepitError } from "@snakepit/errors";
import { bridgePythonDir } from "./bridge-paths.js";
import { startupErrorCodes } from "./contract.js";
import { PROTOCOL_VERSION } from "./protocol-version.js";
import type { SpawnWorkerOptions } from "./spawn-worker.js";

/** The options that become a worker's flags; shared by spawned and forked workers. */
export type WorkerFlagOptions = Pick<
  SpawnWorkerOptions,
  | "listen"
  | "workerId"
  | "concurrency"
  | "parentDeathSignal"
  | "pipeLifeline"
  | "shutdownGraceMs"
  | "hostAddress"
  | "hostHeartbeat"
  | "watchdog"
  | "transport"
  | "maxMessageBytes"
>;

/** The fd on which a worker serves the frames transport (fd 3 is the control socket). */
export const FRAMES_FD = 4;

/**
 * The worker's flags (`python -m snakepit_bridge <flags> --control-fd 3`), one place for both the
 * spawn path and the fork server, so a flag can never differ between them.
 */
export function workerFlags(o: WorkerFlagOptions, adapter: string, runId: string): string[] {
  const args = ["--adapter", adapter, "--worker-id", o.workerId];
  if (o.transport === "frames") args.push("--frames-fd", String(FRAMES_FD));
  else args.push("--listen", o.listen ?? "");
  if (o.maxMessageBytes !== undefined) args.push("--max-message-bytes", String(o.maxMessageBytes));
  args.push("--snakepit-run-id", runId, "--host-pid", String(process.pid));
  args.push("--concurrency", String(o.concurrency ?? 1));
  args.push(o.parentDeathSignal === false ? "--no-parent-death-signal" : "--parent-death-signal");
  if (o.pipeLifeline === false) args.push("--no-pipe-lifeline");
  args.push("--shutdown-grace-ms", String(o.shutdownGraceMs ?? 2000));
  if (o.hostAddress !== undefined) {
    args.push("--host-address", o.hostAddress);
    const hb = o.hostHeartbeat;
    if (hb === false) args.push("--host-heartbeat-interval-ms", "0");
    else {
      args.push("--host-heartbeat-interval-ms", String(hb?.intervalMs ?? 2000));
      args.push("--host-heartbeat-timeout-ms", String(hb?.timeoutMs ?? 2000));
      args.push("--host-heartbeat-max-missed", String(hb?.maxMissed ?? 3));
    }
  }
  if (o.watchdog === true) args.push("--watchdog");
  return args;
}

/**
 * One record of a worker's Python logging, as it arrives on the worker's control socket (the
 * only place structured records come from: stdout and stderr are plain text).
 */
export interface WorkerLogRecord {
  readonly level: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  readonly msg: string;
  /** The correlation id of the call that was running when Python logged (the host sent it with that call). */
  readonly correlationId: string | undefined;
  /** Python's other fields (`logger`, `ts`, `pid`, `call_id`, `exc`), to be kept under their own key. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What one line on a worker's control socket means. */
export type ControlLine =
  | { readonly kind: "ready"; readonly address: string }
  | { readonly kind: "error"; readonly error: SnakepitError }
  | { readonly kind: "log"; readonly record: WorkerLogRecord }
  | { readonly kind: "other" };

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);

function logRecord(message: Record<string, unknown>): WorkerLogRecord {
  const { event: _event, level, msg, correlation_id, ...fields } = message;
  return {
    level: LOG_LEVELS.has(level as string) ? (level as WorkerLogRecord["level"]) : "info",
    msg: typeof msg === "string" ? msg : String(msg ?? ""),
    correlationId: typeof correlation_id === "string" ? correlation_id : undefined,
    fields,
  };
}

interface ControlMessage {
  event?: string;
  address?: string;
  code?: string;
  type?: string;
  message?: string;
  traceback?: string;
  protocol?: unknown;
  bridge?: unknown;
  bridge_path?: unknown;
}

/**
 * The error for a worker whose `snakepit_bridge` speaks protocol `workerProtocol` (`undefined`:
 * a bridge from before protocol versions), naming both versions and the fix.
 */
export function protocolMismatch(
  workerProtocol: unknown,
  where: { readonly bridge?: unknown; readonly bridgePath?: unknown },
): SnakepitError {
  const theirs =
    workerProtocol === undefined ? "none (a bridge older than protocol 1)" : String(workerProtocol);
  const bridge = typeof where.bridge === "string" ? ` ${where.bridge}` : "";
  const path = typeof where.bridgePath === "string" ? ` at ${where.bridgePath}` : "";
  return new SnakepitError(
    "PROTOCOL_VERSION_MISMATCH",
    `The worker's snakepit_bridge${bridge}${path} speaks protocol ${theirs}, this @snakepit/python-bridge speaks protocol ${PROTOCOL_VERSION}. Install the matching bridge into that interpreter (\`pip install ${bridgePythonDir}\`), or uninstall it (\`pip uninstall snakepit-bridge\`) so workers use the copy bundled with @snakepit/python-bridge.`,
    { details: { hostProtocol: PROTOCOL_VERSION, workerProtocol: workerProtocol ?? null } },
  );
}

/**
 * Reads one line of a worker's control socket: `{"event":"ready","address":...,"protocol":N}` once
 * the server is bound, or `{"event":"error","code":...}` with the Python traceback when start-up
 * failed; before and after those, `{"event":"log",...}` records of the worker's Python logging.
 * A ready worker of another protocol version is an error (`PROTOCOL_VERSION_MISMATCH`).
 */
export function parseControlLine(
  line: string,
  context: { readonly workerId: string; readonly adapter: string },
): ControlLine {
  let message: ControlMessage;
  try {
    message = JSON.parse(line) as ControlMessage;
  } catch {
    return {
      kind: "error",
      error: new SnakepitError(
        "PROTOCOL_ERROR",
        `Worker ${context.workerId} wrote a malformed control line: ${line.slice(0, 200)}`,
      ),
    };
  }
  if (message === null || typeof message !== "object") return { kind: "other" };
  if (message.event === "log")
    return { kind: "log", record: logRecord(message as Record<string, unknown>) };
  if (message.event === "error" && message.code === "PROTOCOL_VERSION_MISMATCH")
    return {
      kind: "error",
      error: protocolMismatch(message.protocol, {
        bridge: message.bridge,
        bridgePath: message.bridge_path,
      }),
    };
  if (message.event === "error") {
    const code: ErrorCode =
      startupErrorCodes.find((c) => c === message.code) ?? "WORKER_START_FAILED";
    const what =
      code === "ADAPTER_LOAD_FAILED"
        ? `Adapter "${context.adapter}" failed to load`
        : `Worker ${context.workerId} failed to start`;
    return {
      kind: "error",
      error: new SnakepitError(
        code,
        `${what}: ${message.type ?? "Error"}: ${message.message ?? ""}`,
        {
          details: {
            type: message.type,
            message: message.message,
            traceback: message.traceback,
            adapter: context.adapter,
          },
        },
      ),
    };
  }
  if (message.event === "ready" && typeof message.address === "string") {
    if (message.protocol !== PROTOCOL_VERSION)
      return {
        kind: "error",
        error: protocolMismatch(message.protocol, {
          bridge: message.bridge,
          bridgePath: message.bridge_path,
        }),
      };
    return { kind: "ready", address: message.address };
  }
  return { kind: "other" };
}
