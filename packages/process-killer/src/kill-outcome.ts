/** Why {@link killWithEscalation} resolved: one discriminant instead of a pile of booleans. */
export type KillReason =
  /** The process exited with an exit code before SIGKILL was needed (known only via `exited`). */
  | "exited"
  /** The process (and group) went away after the first signal, before the grace period ended. */
  | "signaled"
  /** The process (or a group member) outlived the grace period and was SIGKILLed. */
  | "forced"
  /** Nothing was alive to begin with; nothing was signalled. */
  | "already-dead"
  /** The pid now belongs to another process (start time or marker differ); nothing was signalled. */
  | "identity-mismatch";

/** What {@link killWithEscalation} did. */
export interface KillOutcome {
  readonly pid: number;
  readonly reason: KillReason;
  /** The exit code, when the caller passed `exited` and the process exited with a code. */
  readonly exitCode?: number;
  /** The terminating signal, when the caller passed `exited` and the process died of a signal. */
  readonly signal?: NodeJS.Signals;
  /** Time from the call to the outcome, in milliseconds. */
  readonly elapsedMs: number;
}
