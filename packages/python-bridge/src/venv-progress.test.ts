import { afterEach, describe, expect, it, vi } from "vitest";
import { createVenvProgress } from "./venv-progress.js";

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, write: (text: string) => chunks.push(text), isTTY };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("first-run progress", () => {
  it("writes one plain line per phase where stderr is not a terminal", () => {
    const out = stream(false);
    const progress = createVenvProgress(out, () => 0);
    progress.phase("creating");
    progress.note("waiting");
    progress.phase("installing");
    progress.finish("ready");
    expect(out.chunks).toEqual([
      "snakepit: creating\n",
      "snakepit: waiting\n",
      "snakepit: installing\n",
      "snakepit: ready\n",
    ]);
  });

  it("on a terminal, redraws a spinner with the elapsed time and ticks each phase off", () => {
    vi.useFakeTimers();
    let now = 0;
    const out = stream(true);
    const progress = createVenvProgress(out, () => now);
    progress.phase("creating");
    now = 250;
    vi.advanceTimersByTime(250);
    progress.phase("installing");
    now = 1750;
    progress.finish("ready");
    const text = out.chunks.join("");
    expect(out.chunks[0]).toBe("\r\x1b[K⠋ snakepit: creating (0.0 s)");
    expect(out.chunks).toContain("\r\x1b[K⠹ snakepit: creating (0.3 s)");
    expect(text).toContain("\r\x1b[K✓ snakepit: creating (0.3 s)\n");
    expect(text).toContain("\r\x1b[K✓ snakepit: installing (1.5 s)\nsnakepit: ready\n");
    // finish() stops the redraw timer.
    const written = out.chunks.length;
    vi.advanceTimersByTime(1000);
    expect(out.chunks).toHaveLength(written);
  });

  it("is silent when turned off", () => {
    const progress = createVenvProgress(false);
    expect(() => {
      progress.phase("x");
      progress.finish("y");
    }).not.toThrow();
  });
});
