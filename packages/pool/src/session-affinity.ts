/**
 * Remembers which worker served each session last, for session affinity. Bounded: the oldest
 * sessions are forgotten first (a forgotten session simply takes any worker next time).
 */
export class SessionAffinity {
  readonly #lastWorker = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  /** The worker that served `sessionId` last, if remembered. */
  workerOf(sessionId: string): string | undefined {
    return this.#lastWorker.get(sessionId);
  }

  /** Records that `workerId` serves `sessionId` now. */
  assign(sessionId: string, workerId: string): void {
    this.#lastWorker.delete(sessionId);
    this.#lastWorker.set(sessionId, workerId);
    if (this.#lastWorker.size > this.#limit) {
      const oldest = this.#lastWorker.keys().next().value;
      if (oldest !== undefined) this.#lastWorker.delete(oldest);
    }
  }
}
