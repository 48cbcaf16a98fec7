import type { Logger } from "./logger.js";

const LEVELS: Record<string, keyof Omit<Logger, "child">> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
  critical: "error",
};

/**
 * Re-emits what a worker writes through the pool's logger, bound to the worker id: JSON lines
 * (the bridge's own log format, with the Python `correlation_id` of the call that logged) keep
 * their level and fields; other stdout lines log at info, other stderr lines at warn. Nothing
 * reaches the host's own stdout.
 */
export function forwardWorkerOutput(
  log: Logger,
  workerId: string,
): (line: string, stream: "stdout" | "stderr") => void {
  const worker = log.child({ workerId });
  return (line, stream) => {
    if (line.startsWith("{")) {
      try {
        const {
          msg,
          level,
          correlation_id,
          worker_id: _ignored,
          ...fields
        } = JSON.parse(line) as Record<string, unknown>;
        const method = LEVELS[String(level)] ?? "info";
        worker[method](
          {
            stream,
            source: "python",
            ...fields,
            ...(correlation_id === undefined ? {} : { correlationId: correlation_id }),
          },
          String(msg ?? ""),
        );
        return;
      } catch {
        // not JSON after all: log it as a plain line
      }
    }
    worker[stream === "stderr" ? "warn" : "info"]({ stream, source: "python" }, line);
  };
}
