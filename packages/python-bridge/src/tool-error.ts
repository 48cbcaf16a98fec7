import { create } from "@bufbuild/protobuf";
import { type ErrorCode, errorCodes, SnakepitError } from "@snakepit/errors";
import { type ToolError, ToolErrorSchema } from "./contract.js";
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

const knownCodes = new Set<string>(errorCodes);

/**
 * Turns a structured {@link ToolError} from a worker into a {@link SnakepitError}: bridge
 * errors keep their code (`TOOL_NOT_FOUND`, `INVALID_ARGUMENTS`, ...), user exceptions become
 * `TOOL_ERROR` with the Python type, message and traceback in `details`.
 */
export function toolErrorToSnakepitError(error: ToolError, tool: string): SnakepitError {
  const code: ErrorCode = knownCodes.has(error.code) ? (error.code as ErrorCode) : "TOOL_ERROR";
  const details: PythonErrorDetails = {
    type: error.type,
    message: error.message,
    traceback: error.traceback,
    details: error.details === undefined ? null : safeDecode(error.details),
    tool,
  };
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
