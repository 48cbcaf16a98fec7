/** Cancel functions per signal, each signal with one `abort` listener however many RPCs share it. */
const cancels = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `cancel` when `signal` aborts, until the returned function is called. RPCs sharing one
 * signal (a pool passes one signal per worker to all its calls without a deadline or a signal
 * of their own) share one `abort` listener: adding and removing an `EventTarget` listener per RPC
 * costs several µs, a `Set` entry a fraction of one. The caller checks `signal.aborted` first.
 */
export function cancelOnAbort(signal: AbortSignal, cancel: () => void): () => void {
  let set = cancels.get(signal);
  if (set === undefined) {
    const fresh = new Set<() => void>();
    set = fresh;
    cancels.set(signal, fresh);
    signal.addEventListener(
      "abort",
      () => {
        cancels.delete(signal);
        for (const run of [...fresh]) run();
        fresh.clear();
      },
      { once: true },
    );
  }
  const own = set;
  own.add(cancel);
  return () => {
    own.delete(cancel);
  };
}
