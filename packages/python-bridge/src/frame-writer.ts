import type { Socket } from "node:net";
import { FRAME_HEADER_BYTES } from "./frame-decoder.js";

// Frames smaller than this are copied into one buffer per flush; larger ones go to the socket
// as they are (a vectored write), so a 1 MiB payload is never copied to be framed.
const COALESCE_BYTES = 64 * 1024;

/**
 * Writes length-prefixed frames to a socket, coalesced per tick: every frame queued in one turn of
 * the event loop (a burst of calls, the next calls started as answers resolve) goes out in one
 * `write` on `process.nextTick`. When `socket.write()` reports a full buffer, frames wait here
 * until `'drain'`.
 */
export class FrameWriter {
  readonly #socket: Socket;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #scheduled = false;
  #blocked = false;
  readonly #flush = () => this.flush();

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("drain", () => {
      this.#blocked = false;
      this.flush();
    });
  }

  /** Queues one frame (`body` is a serialised `Frame`); it is sent on the next tick. */
  push(body: Uint8Array): void {
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32BE(body.length, 0);
    this.#chunks.push(header, body);
    this.#bytes += FRAME_HEADER_BYTES + body.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flush);
    }
  }

  /** Queues one frame already framed (length prefix included), as consecutive chunks. */
  pushFramed(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flush);
    }
  }

  /** Sends what is queued now (unless the socket asked us to wait for `'drain'`). */
  flush(): void {
    this.#scheduled = false;
    if (this.#blocked || this.#chunks.length === 0) return;
    const socket = this.#socket;
    if (socket.destroyed) {
      this.#chunks = [];
      this.#bytes = 0;
      return;
    }
    const chunks = this.#chunks;
    const bytes = this.#bytes;
    this.#chunks = [];
    this.#bytes = 0;
    let ok: boolean;
    if (bytes <= COALESCE_BYTES) {
      ok = socket.write(Buffer.concat(chunks, bytes));
    } else {
      socket.cork();
      ok = true;
      let small: Uint8Array[] = [];
      let smallBytes = 0;
      for (const chunk of chunks) {
        if (chunk.length < COALESCE_BYTES) {
          small.push(chunk);
          smallBytes += chunk.length;
          continue;
        }
        if (small.length > 0) ok = socket.write(Buffer.concat(small, smallBytes)) && ok;
        small = [];
        smallBytes = 0;
        ok = socket.write(chunk) && ok;
      }
      if (small.length > 0) ok = socket.write(Buffer.concat(small, smallBytes)) && ok;
      socket.uncork();
    }
    if (!ok) this.#blocked = true;
  }
}
