/** The first delay of the backoff, in milliseconds. */
export const BASE_BACKOFF_MS = 100;
/** The longest delay between restarts, in milliseconds. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * How long to wait before starting a replacement worker, given `streak` failed starts and quick
 * crashes in a row: 0 for none, then 100 ms, 200 ms, 400 ms ... doubling up to 30 s. Pure.
 */
export function restartDelayMs(streak: number): number {
  if (streak <= 0) return 0;
  // 2 ** 30 already exceeds the cap: clamp the exponent so a long streak stays a finite number.
  return Math.min(BASE_BACKOFF_MS * 2 ** Math.min(streak - 1, 30), MAX_BACKOFF_MS);
}
