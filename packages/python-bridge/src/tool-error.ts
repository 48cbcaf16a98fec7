import { create } from "@bufbuild/protobuf";
import { type ErrorCode, SnakepitError } from "@snakepit/errors";
import { sessionErrorCodes, type ToolError, ToolErrorSchema, toolErrorCodes } from "./contract.js";
import { decodePayload, encodePayload } from "./payload-codec.js";

/** What a Python exception looked like, kept in `SnakepitError.details` of `TOOL_ERROR`s. */
export interface PythonErrorDetails {
  /** The exception class, e.g. `ValueError` or `mymodule.QuotaError`. */
  readonly type: string;
  /** `str(exception)`. */
  readonly message: string;
  /** The formatted traceback, innermost frame last. */
  readonly traceback: string;
  /** The exception's own structured details, if it had any. */
  readonly details: unknown;
  /** The tool that raised. */
  readonly tool: string;
}

// A session code reaches the host twice: from its session store to the worker, then back in the
// ToolError of the call whose tool let the SessionError through.
const workerCodes: ReadonlySet<string> = new Set([...toolErrorCodes, ...sessionErrorCodes]);

/** The code a worker's `ToolError.code` stands for: a contract code, `TOOL_ERROR` when empty. */
function workerErrorCode(wire: string): ErrorCode {
  if (wire === "") return "TOOL_ERROR";
  // A code the contract does not define means the two sides disagree: say so, never guess.
  return workerCodes.has(wire) ? (wire as ErrorCode) : "PROTOCOL_ERROR";
}

/**
 * Turns a structured {@link ToolError} from a worker into a {@link SnakepitError}: bridge
 * errors keep their code (`TOOL_NOT_FOUND`, `INVALID_ARGUMENTS`, `ABORTED`, `WORKER_STOPPED`: the
 * `toolErrorCodes` of the contract), user exceptions become `TOOL_ERROR` with the Python type,
 * message and traceback in `details`, and a code outside the contract becomes `PROTOCOL_ERROR`
 * (the unknown code in `details.code`).
 */
export function toolErrorToSnakepitError(error: ToolError, tool: string): SnakepitError {
  const code = workerErrorCode(error.code);
  const details: PythonErrorDetails = {
    type: error.type,
    message: error.message,
    traceback: error.traceback,
    details: error.details === undefined ? null : safeDecode(error.details),
    tool,
  };
  if (code === "PROTOCOL_ERROR") {
    return new SnakepitError(
      code,
      `Tool "${tool}" failed with error code "${error.code}", which the contract does not define: ${error.type}: ${error.message}`,
      { details: { ...details, code: error.code } },
    );
  }
  const prefix = code === "TOOL_ERROR" ? `Tool "${tool}" raised ${error.type}: ` : "";
  return new SnakepitError(code, `${prefix}${error.message}`, { details: { ...details } });
}

/** The host side of the same contract: a JavaScript error from a host tool as a {@link ToolError}. */
export function errorToToolError(reason: unknown): ToolError {
  if (reason instanceof SnakepitError) {
    return create(ToolErrorSchema, {
      type: reason.name,
      message: reason.message,
      code: reason.code,
      traceback: reason.stack ?? "",
      details: encodePayload(reason.details),
    });
  }
  const err = reason instanceof Error ? reason : new Error(String(reason));
  return create(ToolErrorSchema, {
    type: err.name,
    message: err.message,
    traceback: err.stack ?? "",
  });
}

function safeDecode(payload: NonNullable<ToolError["details"]>): unknown {
  try {
    return decodePayload(payload);
  } catch {
    return null;
  }
}
