import type { WorkerExit } from "@snakepit/python-bridge";
import { restartDelayMs } from "./restart-backoff.js";

/** A worker that dies on its own within this long of becoming ready counts towards the crash barrier. */
export const QUICK_CRASH_MS = 5000;
/** After this many failed starts (or quick crashes) in a row the pool reports itself degraded. */
export const DEGRADED_AFTER = 3;

// Signals a process raises on itself (faults, abort(), resource limits): a crash of its own.
// Any other signal (SIGKILL, SIGTERM, SIGINT, ...) came from outside: someone killed it.
const SELF_RAISED = new Set<string>([
  "SIGSEGV",
  "SIGBUS",
  "SIGFPE",
  "SIGILL",
  "SIGABRT",
  "SIGTRAP",
  "SIGSYS",
  "SIGXCPU",
  "SIGXFSZ",
]);

/** How a ready worker's unexpected exit counts: `killed` from outside, or a `crash` of its own. */
export type ExitKind = "killed" | "crash";

/** Tells an exit by a signal from outside (`killed`) from a crash of the worker's own. Pure. */
export function classifyExit(exit: Pick<WorkerExit, "signal">): ExitKind {
  return exit.signal !== null && !SELF_RAISED.has(exit.signal) ? "killed" : "crash";
}

/**
 * The crash barrier: keeps an adapter that dies on start from being restarted in a busy loop,
 * without holding back a pool whose workers are merely being killed from outside. Counts
 * failed starts in a row (a successful start resets them) and quick crashes in a row (a worker
 * that exits on its own within {@link QUICK_CRASH_MS} of its start; one that lived longer
 * resets them). A worker killed from outside counts as neither and is replaced at once.
 * The streak drives the restart delay ({@link restartDelayMs}); the pool is degraded while it
 * truly cannot start workers. No timers, no processes: every rule is tested alone.
 */
export class CrashBarrier {
  #failedStarts = 0;
  #quickCrashes = 0;

  /** Failed starts and quick crashes in a row. */
  get streak(): number {
    return this.#failedStarts + this.#quickCrashes;
  }

  /** A worker failed to start. */
  startFailed(): void {
    this.#failedStarts++;
  }

  /** A worker started and became ready. */
  started(): void {
    this.#failedStarts = 0;
  }

  /** A worker exited without the pool stopping it, `uptimeMs` after its start. */
  exited(kind: ExitKind, uptimeMs: number): void {
    if (kind === "killed") return;
    this.#quickCrashes = uptimeMs < QUICK_CRASH_MS ? this.#quickCrashes + 1 : 0;
  }

  /** How long to wait before starting the replacement of a worker that exited this way (or failed to start). */
  delayMs(kind: ExitKind | "start-failed" = "crash"): number {
    return kind === "killed" ? 0 : restartDelayMs(this.streak);
  }

  /**
   * True while the pool cannot start workers: {@link DEGRADED_AFTER} failed starts in a row, or
   * as many quick crashes with no worker ready now.
   */
  degraded(readyCount: number): boolean {
    return (
      this.#failedStarts >= DEGRADED_AFTER ||
      (this.#quickCrashes >= DEGRADED_AFTER && readyCount === 0)
    );
  }
}
