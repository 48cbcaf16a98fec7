/** Where first-run progress goes: `process.stderr` by default; anything with `write()`. */
export interface ProgressStream {
  write(text: string): unknown;
  /** A terminal: progress is a spinner line redrawn in place. Otherwise one line per phase. */
  readonly isTTY?: boolean | undefined;
}

/** @internal Reports the phases of a venv creation to a person. */
export interface VenvProgress {
  /** A new phase starts (the previous one, if any, is done). */
  phase(text: string): void;
  /** A one-off line (e.g. "waiting for another process"). */
  note(text: string): void;
  /** Everything is done (or failed): stops the spinner, prints `text`. */
  finish(text: string): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * @internal Phase lines on `stream`, each prefixed `snakepit: `. On a TTY the current phase is
 * a spinner with its elapsed time, redrawn every 100 ms, and a finished phase is ticked off
 * with its duration; elsewhere (CI logs, files) a plain line per phase. `false`: silent.
 */
export function createVenvProgress(
  stream: ProgressStream | false,
  now: () => number = performance.now.bind(performance),
): VenvProgress {
  if (stream === false) return { phase() {}, note() {}, finish() {} };
  const tty = stream.isTTY === true;
  let current: { text: string; startedAt: number } | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let frame = 0;
  const draw = () => {
    if (current === undefined) return;
    const spin = FRAMES[frame++ % FRAMES.length];
    stream.write(
      `\r\x1b[K${spin} snakepit: ${current.text} (${seconds(now() - current.startedAt)})`,
    );
  };
  const endPhase = () => {
    if (current === undefined) return;
    if (tty)
      stream.write(`\r\x1b[K✓ snakepit: ${current.text} (${seconds(now() - current.startedAt)})\n`);
    current = undefined;
  };
  const stopTimer = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  return {
    phase(text) {
      endPhase();
      current = { text, startedAt: now() };
      if (!tty) {
        stream.write(`snakepit: ${text}\n`);
        return;
      }
      draw();
      // The install's child process keeps the loop alive while this matters.
      timer ??= setInterval(draw, 100);
      timer.unref();
    },
    note(text) {
      if (tty && current !== undefined) stream.write("\r\x1b[K");
      stream.write(`snakepit: ${text}\n`);
      if (tty) draw();
    },
    finish(text) {
      stopTimer();
      endPhase();
      stream.write(`snakepit: ${text}\n`);
    },
  };
}
