import type { ErrorCode } from "./error-codes.js";

/** Options of the {@link SnakepitError} constructor. */
export interface SnakepitErrorOptions {
  /** The underlying error, kept as `err.cause`. */
  cause?: unknown;
  /** Structured, JSON-safe facts about the failure (e.g. the Python traceback, the exit code). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Marks every {@link SnakepitError}. A registered symbol is the same in every copy of this package
 * (two versions installed side by side, or one bundled), where `instanceof` alone would only know
 * its own copy's class.
 */
const brand: unique symbol = Symbol.for("snakepit.error");

/** True when `value` carries the brand, whichever copy of this package made it. */
function isBranded(value: unknown): value is SnakepitError {
  return (
    typeof value === "object" && value !== null && (value as { [brand]?: unknown })[brand] === true
  );
}

/**
 * The one error class of every `@snakepit/*` package. Branch on `code`, a closed union
 * ({@link ErrorCode}); the message is for people and may change. `instanceof SnakepitError` and
 * {@link isSnakepitError} also recognise errors made by another installed copy of this package.
 */
export class SnakepitError extends Error {
  override readonly name = "SnakepitError";
  /** The cross-copy brand (see {@link isSnakepitError}); on the prototype, so logs don't show it. */
  get [brand](): true {
    return true;
  }
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
    if (isBranded(reason)) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new SnakepitError(code, message, { cause: reason });
  }

  /**
   * `value instanceof SnakepitError` is true for a SnakepitError of any copy of this package (by its
   * brand); for a subclass, `instanceof` keeps its usual prototype-chain meaning.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of `instanceof`: a subclass keeps the prototype check
    if (this !== SnakepitError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return isBranded(value);
  }
}

/**
 * True when `value` is a {@link SnakepitError}, optionally with the given code. Recognises errors
 * of every installed copy of `@snakepit/errors` by their brand (`Symbol.for("snakepit.error")`).
 */
export function isSnakepitError(value: unknown, code?: ErrorCode): value is SnakepitError {
  return isBranded(value) && (code === undefined || value.code === code);
}
