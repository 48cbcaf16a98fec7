import type { WorkerLogRecord } from "@snakepit/python-bridge";
import type { Logger } from "./logger.js";

/**
 * Re-emits what a worker (or fork server) writes to stdout and stderr through the pool's logger,
 * bound to its id: every line is plain text — stdout at info, stderr at warn — whatever it looks
 * like. A line that looks like JSON is not parsed: a tool printing untrusted text cannot forge a
 * record, a level, another call's correlation id or the host's own fields. Nothing reaches the
 * host's own stdout.
 */
export function forwardWorkerOutput(
  log: Logger,
  workerId: string,
): (line: string, stream: "stdout" | "stderr") => void {
  const worker = log.child({ workerId });
  return (line, stream) => {
    worker[stream === "stderr" ? "warn" : "info"]({ stream, source: "python" }, line);
  };
}

/**
 * Re-emits a worker's Python log records (from its control socket) through the pool's logger,
 * bound to the worker id, at their level (`fatal` at error). The host's fields come first and
 * stay the host's: Python's own fields (`logger`, `ts`, `pid`, `call_id`, `exc`) are nested under
 * `python`, and only the correlation id of the call that logged is lifted to `correlationId`.
 */
export function forwardWorkerLog(log: Logger, workerId: string): (record: WorkerLogRecord) => void {
  const worker = log.child({ workerId });
  return (record) => {
    const method = record.level === "fatal" ? "error" : record.level;
    worker[method](
      {
        source: "python",
        ...(record.correlationId === undefined ? {} : { correlationId: record.correlationId }),
        python: record.fields,
      },
      record.msg,
    );
  };
}
