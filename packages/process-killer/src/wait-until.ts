import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `done` with backoff (1, 2, 4, … capped at 50 ms; never a busy loop) until it returns
 * true or `deadline` (a `performance.now()` value) passes, and resolves to the last answer.
 * A pending `wake` promise cuts the current nap short when it settles (e.g. a child's exit
 * event). Rejects when `signal` aborts. The naps keep the event loop alive (a script whose only
 * pending work is a kill must not exit halfway: node would end it with code 13, an unsettled
 * top-level await); each is torn down by `signal`.
 */
export async function waitUntil(
  done: () => boolean,
  deadline: number,
  signal: AbortSignal,
  wake?: Promise<unknown>,
): Promise<boolean> {
  let woken = wake === undefined;
  void wake?.finally(() => {
    woken = true;
  });
  let delayMs = 1;
  for (;;) {
    signal.throwIfAborted();
    if (done()) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const nap = sleep(Math.min(delayMs, left), undefined, { signal });
    // Once `wake` has settled, racing it would return at once: a busy loop. Nap plainly then.
    await (woken || wake === undefined ? nap : Promise.race([nap, wake]));
    delayMs = Math.min(delayMs * 2, 50);
  }
}
