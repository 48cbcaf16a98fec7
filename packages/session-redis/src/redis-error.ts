import { ErrorReply } from "@redis/client";
import { SnakepitError } from "@snakepit/errors";

// Error replies that mean "this Redis cannot serve us right now", not "we sent something wrong".
const UNAVAILABLE_REPLIES =
  /^(NOAUTH|WRONGPASS|NOPERM|LOADING|READONLY|MASTERDOWN|BUSY|OOM|CLUSTERDOWN|TRYAGAIN|MISCONF)\b/;

/**
 * Maps whatever a Redis operation threw to the one code a caller branches on: the caller's own
 * abort → `ABORTED`; our own coded errors pass through; a closed or refused connection, a
 * timeout, or a server refusing to serve → `SESSION_STORE_UNAVAILABLE`; an error reply we did
 * not expect (a bug in a script) → `INTERNAL`. The message names the store and the cause.
 */
export function redisFailure(err: unknown, where: string, signal?: AbortSignal): SnakepitError {
  if (err instanceof SnakepitError) return err;
  if (signal?.aborted === true) {
    return new SnakepitError("ABORTED", `Session operation on ${where} was aborted`, {
      cause: signal.reason ?? err,
    });
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (err instanceof ErrorReply && !UNAVAILABLE_REPLIES.test(err.message)) {
    return new SnakepitError("INTERNAL", `Redis at ${where} replied with an error: ${message}`, {
      cause: err,
    });
  }
  return new SnakepitError(
    "SESSION_STORE_UNAVAILABLE",
    `The session store (Redis at ${where}) is unavailable: ${message}`,
    { cause: err },
  );
}
