import { setTimeout as sleep } from "node:timers/promises";
import { SnakepitError } from "@snakepit/errors";
import { killWithEscalation } from "@snakepit/process-killer";
import { describeExit, type WorkerExit } from "./worker-exit.js";

/** The process whose start {@link awaitStart} watches: a spawned worker, a forked one, a fork server. */
export interface StartingProcess {
  /** Who starts, as error messages name it: `Worker w1`, `Fork server`. */
  readonly name: string;
  /** Its pid; `undefined` when the OS gave none (the spawn failed, `spawnFailed` says why). */
  readonly pid: number | undefined;
  /** Resolves when it has exited (never rejects). */
  readonly exited: Promise<WorkerExit>;
  /** Resolves with the error when the process could not be spawned at all. Default: never. */
  readonly spawnFailed?: Promise<SnakepitError>;
  /** How long it may take to report ready, in milliseconds. */
  readonly startTimeoutMs: number;
  /** Aborts the start. */
  readonly signal: AbortSignal | undefined;
  /** Its last output lines, quoted by the errors. */
  readonly output: () => string;
  /**
   * Awaited after an exit before ready and before the exit is reported, so that a last error line
   * (which then wins) or the last output lines can arrive. Default: one turn of the event loop.
   */
  readonly afterExit?: () => Promise<void>;
}

/** One start in progress, handed to the code that reads the readiness handshake. */
export interface StartAttempt<T> {
  /** Aborted once the start has settled, either way: listeners of the start hang on it. */
  readonly settled: AbortSignal;
  /** The process reports ready: resolve with `value`. Ignored once settled. */
  ready(value: T): void;
  /**
   * The start failed: SIGKILL the process (its group, when it leads one) and reject with `error`
   * once it is gone, so a failed start never leaves a process behind. Ignored once settled.
   */
  fail(error: SnakepitError): void;
}

/**
 * The skeleton of every start handshake (spawned worker, forked worker, fork server): `read`
 * waits for the process's own readiness message and calls `ready` or `fail`; around it, the first
 * of these settles the start, and every later one is ignored:
 * - `startTimeoutMs` passes: `WORKER_START_TIMEOUT` (the process is killed first);
 * - `signal` aborts: `ABORTED` with the reason (killed first);
 * - the spawn fails: the `spawnFailed` error (`PYTHON_NOT_FOUND`, ...);
 * - the process exits: `WORKER_START_FAILED` with its exit and output.
 * One controller owns the timer and listeners; settling aborts it, which tears them all down.
 */
export function awaitStart<T>(
  starting: StartingProcess,
  read: (attempt: StartAttempt<T>) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    const settled = controller.signal;
    const settle = (): boolean => {
      if (settled.aborted) return false;
      controller.abort();
      return true;
    };
    const attempt: StartAttempt<T> = {
      settled,
      ready(value) {
        if (settle()) resolve(value);
      },
      fail(error) {
        if (settle()) stopThenReject(starting, error, reject);
      },
    };

    const { name, startTimeoutMs, signal } = starting;
    sleep(startTimeoutMs, undefined, { signal: settled, ref: false }).then(
      () =>
        attempt.fail(
          new SnakepitError(
            "WORKER_START_TIMEOUT",
            `${name} did not report ready within ${startTimeoutMs} ms`,
            { details: { output: starting.output() } },
          ),
        ),
      () => undefined, // settled first
    );
    const onAbort = () => attempt.fail(SnakepitError.from(signal?.reason, "ABORTED"));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true, signal: settled });
    void starting.spawnFailed?.then((error) => {
      if (settle()) reject(error);
    });
    void starting.exited.then(async (exit) => {
      if (settled.aborted) return;
      await (starting.afterExit?.() ?? new Promise<void>((next) => setImmediate(next)));
      if (!settle()) return;
      const output = starting.output();
      reject(
        new SnakepitError(
          "WORKER_START_FAILED",
          `${name} exited (${describeExit(exit)}) before it was ready.\n${output}`,
          { details: { exitCode: exit.code, signal: exit.signal, output } },
        ),
      );
    });
    if (!settled.aborted) read(attempt);
  });
}

function stopThenReject(
  starting: StartingProcess,
  error: SnakepitError,
  reject: (reason: unknown) => void,
): void {
  const { pid, exited } = starting;
  // Without a pid the spawn failed: nothing runs, and `spawnFailed` settles soon.
  const gone =
    pid === undefined
      ? (starting.spawnFailed ?? exited)
      : killWithEscalation(pid, { firstSignal: "SIGKILL", graceMs: 0, exited }).then(() => exited);
  gone.then(
    () => reject(error),
    (cause: unknown) =>
      reject(
        new SnakepitError(
          "KILL_FAILED",
          `${starting.name} failed to start (${error.code}) and could not be stopped: ${(cause as Error).message}`,
          { cause, details: { pid, startError: error.code } },
        ),
      ),
  );
}
