/** Keeps the last `limit` lines of a worker's output, for error messages. */
export class OutputTail {
  readonly #lines: string[] = [];
  readonly #limit: number;

  constructor(limit = 40) {
    this.#limit = limit;
  }

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.shift();
  }

  toString(): string {
    return this.#lines.join("\n");
  }
}
