import type { Readable } from "node:stream";

/**
 * The longest line, in bytes of UTF-8, that {@link splitLines} passes on whole: 64 KiB. A longer
 * line is cut to this many bytes (at a character boundary) followed by {@link truncationMarker}.
 */
export const maxLineBytes = 64 * 1024;

/** What ends a line that {@link splitLines} cut, with how many bytes it dropped. */
export function truncationMarker(droppedBytes: number): string {
  return ` …[line truncated by snakepit: ${droppedBytes} more bytes dropped]`;
}

const newline = 0x0a;

/**
 * Splits a byte stream into lines in linear time and bounded memory: each chunk is searched once
 * for newlines (never the whole buffered line again), and at most `maxBytes` of the current line
 * are kept — the rest of an overlong line is counted and dropped until its newline. Pure: feed it
 * with {@link LineSplitter.push} and {@link LineSplitter.end}.
 */
export class LineSplitter {
  readonly #onLine: (line: string) => void;
  readonly #maxBytes: number;
  #pieces: Buffer[] = [];
  #kept = 0;
  #dropped = 0;

  /** @param maxBytes Longest line passed on whole, in bytes. Default {@link maxLineBytes}. */
  constructor(onLine: (line: string) => void, maxBytes = maxLineBytes) {
    this.#onLine = onLine;
    this.#maxBytes = maxBytes;
  }

  /** Bytes of the current, unfinished line held in memory (at most `maxBytes`). */
  get bufferedBytes(): number {
    return this.#kept;
  }

  /** Feeds a chunk; calls `onLine` for every line it completes (without the newline). */
  push(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(newline, start);
    while (nl !== -1) {
      const line = chunk.subarray(start, nl);
      // The common case, a whole line inside one chunk, is decoded in place.
      if (this.#pieces.length === 0 && line.length <= this.#maxBytes) this.#onLine(line.toString());
      else {
        this.#keep(line);
        this.#emit();
      }
      start = nl + 1;
      nl = chunk.indexOf(newline, start);
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start));
  }

  /** Ends the input: a last line without a newline is passed on too. */
  end(): void {
    if (this.#kept > 0 || this.#dropped > 0) this.#emit();
  }

  #keep(part: Buffer): void {
    const room = this.#maxBytes - this.#kept;
    // Copies: a view would keep the whole chunk it came from alive.
    if (part.length <= room) {
      if (part.length > 0) this.#pieces.push(Buffer.from(part));
      this.#kept += part.length;
      return;
    }
    if (room > 0) this.#pieces.push(Buffer.from(part.subarray(0, room)));
    this.#kept = this.#maxBytes;
    this.#dropped += part.length - room;
  }

  #emit(): void {
    const bytes = this.#pieces.length === 1 ? this.#pieces[0] : Buffer.concat(this.#pieces);
    let line = "";
    if (bytes !== undefined) {
      // A cut line may end inside a multi-byte character: end it at the character's start instead.
      const end = this.#dropped > 0 ? characterBoundary(bytes) : bytes.length;
      line = bytes.toString("utf8", 0, end);
      if (this.#dropped > 0) this.#dropped += bytes.length - end;
    }
    if (this.#dropped > 0) line += truncationMarker(this.#dropped);
    this.#pieces = [];
    this.#kept = 0;
    this.#dropped = 0;
    this.#onLine(line);
  }
}

/** The length of `bytes` without a trailing, incomplete UTF-8 sequence. */
function characterBoundary(bytes: Buffer): number {
  // Walk back over at most 3 continuation bytes (10xxxxxx) to the lead byte of the last character.
  let i = bytes.length - 1;
  while (i > 0 && i > bytes.length - 4 && ((bytes[i] ?? 0) & 0xc0) === 0x80) i--;
  const lead = bytes[i] ?? 0;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return i + need <= bytes.length ? bytes.length : i;
}

/**
 * Calls `onLine` for every line of a byte stream (without the newline), and once for a last
 * line without a newline when the stream ends. Linear in the input, and a line longer than
 * {@link maxLineBytes} (64 KiB) is cut there and ends with {@link truncationMarker}, so a worker
 * that writes megabytes without a newline costs the host neither quadratic CPU nor memory.
 */
export function splitLines(
  stream: Readable,
  onLine: (line: string) => void,
  maxBytes = maxLineBytes,
): void {
  const splitter = new LineSplitter(onLine, maxBytes);
  stream.on("data", (chunk: Buffer | string) =>
    splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk),
  );
  stream.on("end", () => splitter.end());
}
