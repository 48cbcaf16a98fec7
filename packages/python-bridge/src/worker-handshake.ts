import { type ErrorCode, SnakepitError } from "@snakepit/errors";
import { startupErrorCodes } from "./contract.js";
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
>;

/**
 * The worker's flags (`python -m snakepit_bridge <flags> --control-fd 3`), one place for both the
 * spawn path and the fork server, so a flag can never differ between them.
 */
export function workerFlags(o: WorkerFlagOptions, adapter: string, runId: string): string[] {
  const args = ["--adapter", adapter, "--listen", o.listen, "--worker-id", o.workerId];
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

/** What one line on a worker's control socket means. */
export type ControlLine =
  | { readonly kind: "ready"; readonly address: string }
  | { readonly kind: "error"; readonly error: SnakepitError }
  | { readonly kind: "other" };

interface ControlMessage {
  event?: string;
  address?: string;
  code?: string;
  type?: string;
  message?: string;
  traceback?: string;
}

/**
 * Reads one line of the readiness handshake: `{"event":"ready","address":...}` once the server is
 * bound, or `{"event":"error","code":...}` with the Python traceback when start-up failed.
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
  if (message.event === "ready" && typeof message.address === "string")
    return { kind: "ready", address: message.address };
  return { kind: "other" };
}
