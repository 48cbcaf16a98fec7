import type { Logger } from "./logger.js";

/**
 * On the first SIGINT or SIGTERM, calls `close`, then re-raises the signal so the process still
 * exits as it would have. Returns the remover (call it when the pool closes).
 */
export function closeOnSignals(close: () => Promise<void>, log: Logger): { remove(): void } {
  const onSignal = (sig: NodeJS.Signals) => {
    remove();
    log.info({ signal: sig }, "closing the pool on a signal");
    void close().finally(() => process.kill(process.pid, sig));
  };
  const remove = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return { remove };
}
