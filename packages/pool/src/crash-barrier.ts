import { restartDelayMs } from "./restart-backoff.js";

/** A worker that dies within this long of becoming ready counts towards the crash barrier. */
export const QUICK_CRASH_MS = 5000;
/** After this many failed starts or quick crashes in a row the pool reports itself degraded. */
export const DEGRADED_AFTER = 3;

/**
 * The crash barrier: counts failed starts and quick crashes in a row, which back off the
 * restarts ({@link restartDelayMs}) and, past {@link DEGRADED_AFTER}, mark the pool degraded,
 * so an adapter that dies on start is not restarted in a busy loop. No timers, no processes.
 */
export class CrashBarrier {
  #streak = 0;

  /** Failed starts and quick crashes in a row. */
  get streak(): number {
    return this.#streak;
  }

  /** A worker failed to start. */
  startFailed(): void {
    this.#streak++;
  }

  /** A worker exited on its own after `uptimeMs` (not stopped by the pool). */
  crashed(uptimeMs: number): void {
    this.#streak = uptimeMs < QUICK_CRASH_MS ? this.#streak + 1 : 0;
  }

  /** How long to wait before the next replacement start. */
  get delayMs(): number {
    return restartDelayMs(this.#streak);
  }

  /** True while workers keep failing right after start. */
  get degraded(): boolean {
    return this.#streak >= DEGRADED_AFTER;
  }
}
