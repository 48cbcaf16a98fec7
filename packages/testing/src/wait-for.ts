/**
 * Polls `check` every `intervalMs` until it returns a truthy value, and resolves with it;
 * rejects with `message` after `timeoutMs`. For tests that wait on real processes.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  {
    timeoutMs = 5000,
    intervalMs = 20,
    message = "condition",
  }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise<void>((resolve) => setTimeout(resolve, intervalMs).unref());
  }
}
