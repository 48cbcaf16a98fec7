/**
 * One timer for any number of deadlines (`performance.now()` times), so a call with a deadline
 * costs no timer of its own: armed for the earliest deadline scheduled; when it fires, `expire`
 * ends every call whose deadline has passed and returns the earliest deadline still pending (0
 * for none), and the timer is armed again for that. Unref'd: a deadline never keeps the process
 * alive.
 */
export class DeadlineTimer {
  readonly #expire: (now: number) => number;
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for (meaningful while it is). */
  #at = 0;

  /** @param expire called when the timer fires, with the time; returns the next deadline or 0. */
  constructor(expire: (now: number) => number) {
    this.#expire = expire;
  }

  /** True while a deadline is pending. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** A deadline at `at` (> 0): the timer fires by then. */
  schedule(at: number): void {
    if (this.#timer === undefined || at < this.#at) this.#arm(at);
  }

  /** Drops every pending deadline (the connection closed). */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#at = at;
    this.#timer = setTimeout(this.#fire, Math.max(0, at - performance.now()));
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const next = this.#expire(performance.now());
    if (next > 0) this.#arm(next);
  };
}
