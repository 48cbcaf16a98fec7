import { SnakepitError } from "@snakepit/errors";

/** Bytes of a frame's length prefix (a 4-byte unsigned big-endian length; see frame.proto). */
export const FRAME_HEADER_BYTES = 4;

/**
 * Splits a byte stream into frames (`[u32 big-endian length][frame]`), without copying a frame
 * that arrived inside one chunk (it is handed over as a view of that chunk) and with one copy for
 * a frame spread over several chunks (into a buffer of its announced size, so a 1 MiB frame read
 * in 64 KiB pieces is never re-concatenated). A length over `maxBytes` is a protocol error, found
 * before anything of the frame is buffered.
 */
export class FrameDecoder {
  readonly #maxBytes: number;
  readonly #onFrame: (bytes: Uint8Array) => void;
  readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerFilled = 0;
  #body: Buffer | undefined;
  #bodyFilled = 0;

  constructor(maxBytes: number, onFrame: (bytes: Uint8Array) => void) {
    this.#maxBytes = maxBytes;
    this.#onFrame = onFrame;
  }

  /** True when a frame has begun but not ended (EOF now would truncate it). */
  get partial(): boolean {
    return this.#headerFilled > 0 || this.#body !== undefined;
  }

  /** Feeds received bytes; calls `onFrame` for every complete frame. Throws `PROTOCOL_ERROR`. */
  push(chunk: Buffer): void {
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      let body = this.#body;
      if (body === undefined) {
        let size: number;
        if (this.#headerFilled === 0 && end - offset >= FRAME_HEADER_BYTES) {
          size = chunk.readUInt32BE(offset);
          offset += FRAME_HEADER_BYTES;
        } else {
          const n = Math.min(FRAME_HEADER_BYTES - this.#headerFilled, end - offset);
          chunk.copy(this.#header, this.#headerFilled, offset, offset + n);
          this.#headerFilled += n;
          offset += n;
          if (this.#headerFilled < FRAME_HEADER_BYTES) return;
          this.#headerFilled = 0;
          size = this.#header.readUInt32BE(0);
        }
        if (size > this.#maxBytes)
          throw new SnakepitError(
            "PROTOCOL_ERROR",
            `The worker announced a frame of ${size} bytes, over the ${this.#maxBytes}-byte limit (\`maxMessageBytes\`)`,
            { details: { size, limit: this.#maxBytes } },
          );
        if (end - offset >= size) {
          this.#onFrame(chunk.subarray(offset, offset + size));
          offset += size;
          continue;
        }
        body = Buffer.allocUnsafe(size);
        this.#body = body;
        this.#bodyFilled = 0;
      }
      const n = Math.min(end - offset, body.length - this.#bodyFilled);
      chunk.copy(body, this.#bodyFilled, offset, offset + n);
      this.#bodyFilled += n;
      offset += n;
      if (this.#bodyFilled === body.length) {
        this.#body = undefined;
        this.#onFrame(body);
      }
    }
  }
}
