import type { ErrorCode } from "./error-codes.js";

/** Options of the {@link SnakepitError} constructor. */
export interface SnakepitErrorOptions {
  /** The underlying error, kept as `err.cause`. */
  cause?: unknown;
  /** Structured, JSON-safe facts about the failure (e.g. the Python traceback, the exit code). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error class of every `@snakepit/*` package. Branch on `code`, a closed union
 * ({@link ErrorCode}); the message is for people and may change.
 */
export class SnakepitError extends Error {
  override readonly name = "SnakepitError";
  /** What went wrong, as a stable code. */
  readonly code: ErrorCode;
  /** Structured facts about the failure; empty when there are none. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: SnakepitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /**
   * Returns `reason` if it is already a `SnakepitError`, otherwise wraps it with `code`,
   * keeping it as the cause and its message as the message.
   */
  static from(reason: unknown, code: ErrorCode = "INTERNAL"): SnakepitError {
    if (reason instanceof SnakepitError) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new SnakepitError(code, message, { cause: reason });
  }
}

/** True when `value` is a {@link SnakepitError}, optionally with the given code. */
export function isSnakepitError(value: unknown, code?: ErrorCode): value is SnakepitError {
  return value instanceof SnakepitError && (code === undefined || value.code === code);
}
