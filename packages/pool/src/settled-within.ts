import { SnakepitError } from "@snakepit/errors";

/**
 * Waits for `promise` (which must not reject), at most `timeoutMs`, and no longer than until
 * `signal` aborts. Resolves with what ended the wait. Its timer and listener are gone after.
 */
export function settledWithin(
  promise: Promise<unknown>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<"settled" | "timeout" | "aborted"> {
  if (signal?.aborted) return Promise.resolve("aborted");
  return new Promise((resolve) => {
    const done = (how: "settled" | "timeout" | "aborted") => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(how);
    };
    const onAbort = () => done("aborted");
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    void promise.then(() => done("settled"));
  });
}

/** `promise`, or an `ABORTED` rejection (the signal's `SnakepitError` reason as is) when `signal` aborts first. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(SnakepitError.from(signal.reason, "ABORTED"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(SnakepitError.from(signal.reason, "ABORTED"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
