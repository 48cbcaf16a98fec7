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
