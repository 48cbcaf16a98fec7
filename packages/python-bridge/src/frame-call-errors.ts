import { type ErrorCode, errorCodes, SnakepitError } from "@snakepit/errors";
import type { frame } from "./contract.js";

// How the frames client (frames-worker-client.ts) tells answers from requests and turns a
// worker's `failed` frame or an abort into the error its caller gets.

const knownCodes = new Set<string>(errorCodes);

/** True for the frame kinds a worker answers with (every other kind is a host request). */
export function isAnswer(kind: Exclude<frame.Frame["body"]["case"], undefined>): boolean {
  return (
    kind === "pong" ||
    kind === "heartbeatAck" ||
    kind === "tools" ||
    kind === "executeResult" ||
    kind === "streamEvent" ||
    kind === "shutdownDone" ||
    kind === "failed"
  );
}

/**
 * The error of a call the worker refused outside its tool (`CallFailed`): its code when it is a
 * Snakepit code (else `TRANSPORT_ERROR`), its details when they parse as JSON.
 */
export function callFailed(failed: frame.CallFailed, operation: string): SnakepitError {
  const code: ErrorCode = knownCodes.has(failed.code)
    ? (failed.code as ErrorCode)
    : "TRANSPORT_ERROR";
  let details: unknown;
  try {
    details = failed.detailsJson === "" ? undefined : JSON.parse(failed.detailsJson);
  } catch {
    details = undefined;
  }
  return new SnakepitError(code, `${operation} failed: ${failed.message}`, {
    details: details as Record<string, unknown> | undefined,
  });
}

/** The error of an aborted call: the caller's `SnakepitError` reason as is, else `ABORTED`. */
export function abortError(reason: unknown, operation: string): SnakepitError {
  return reason instanceof SnakepitError
    ? reason
    : new SnakepitError("ABORTED", `${operation} was aborted`, { cause: reason });
}
