/** The longest line an {@link OutputTail} keeps whole, in characters; a longer one is cut. */
export const maxTailLineLength = 2000;

/**
 * Keeps the last `limit` lines of a worker's output, for error messages. Memory is bounded: at
 * most `limit` lines of at most {@link maxTailLineLength} characters (plus a short marker) each.
 */
export class OutputTail {
  readonly #lines: string[] = [];
  readonly #limit: number;

  constructor(limit = 40) {
    this.#limit = limit;
  }

  push(line: string): void {
    // A cut line is copied (through bytes): a slice would keep the whole long line alive.
    this.#lines.push(
      line.length <= maxTailLineLength
        ? line
        : `${Buffer.from(line.slice(0, maxTailLineLength)).toString()} …[${line.length - maxTailLineLength} more characters]`,
    );
    if (this.#lines.length > this.#limit) this.#lines.shift();
  }

  toString(): string {
    return this.#lines.join("\n");
  }
}
