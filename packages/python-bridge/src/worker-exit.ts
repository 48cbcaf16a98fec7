/** How a worker process (or a fork server) ended, as Node's `'exit'` event reports it. */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** `exit code 3` or `signal SIGKILL`. */
export function describeExit(e: WorkerExit): string {
  return e.signal !== null ? `signal ${e.signal}` : `exit code ${e.code}`;
}
