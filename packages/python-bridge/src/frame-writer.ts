import type { Socket } from "node:net";
import type { FrameSink } from "./execute-frame-encoder.js";
import { FRAME_HEADER_BYTES } from "./frame-decoder.js";

// Frames are written into an arena of this size (a bigger one for a bigger frame); each flush
// sends the part written since the last one, and the next frames go after it (a region handed to
// the socket is never written again: a write the kernel did not take at once still holds it).
const ARENA_BYTES = 64 * 1024;
// Serialised frames this large go to the socket as their own chunk, not copied into the arena.
const OWN_CHUNK_BYTES = 64 * 1024;

/**
 * Writes length-prefixed frames to a socket, coalesced per tick: every frame queued in one turn of
 * the event loop (a burst of calls, the next calls started as answers resolve) goes out in one
 * `write` on `process.nextTick`, straight from the buffer the frames were encoded into (a large
 * chunk pushed as is goes out in a vectored write, never copied). When `socket.write()` reports a
 * full buffer, frames wait here until `'drain'`.
 */
export class FrameWriter implements FrameSink {
  readonly #socket: Socket;
  /** Chunks sealed before the arena's current segment (only when a chunk went in between). */
  #chunks: Uint8Array[] = [];
  #arena: Buffer = Buffer.allocUnsafeSlow(0);
  /** Start of the arena's segment not yet sent. */
  #start = 0;
  #offset = 0;
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

  get offset(): number {
    return this.#offset;
  }

  room(bytes: number): Buffer {
    if (this.#arena.length - this.#offset >= bytes) return this.#arena;
    this.#seal();
    this.#arena = Buffer.allocUnsafeSlow(Math.max(ARENA_BYTES, bytes));
    this.#start = 0;
    this.#offset = 0;
    return this.#arena;
  }

  commit(end: number): void {
    this.#offset = end;
    this.#schedule();
  }

  pushChunk(chunk: Uint8Array): void {
    this.#seal();
    this.#chunks.push(chunk);
    this.#schedule();
  }

  /** Queues one frame (`body` is a serialised `Frame`); it is sent on the next tick. */
  push(body: Uint8Array): void {
    const own = body.length >= OWN_CHUNK_BYTES;
    const buf = this.room(FRAME_HEADER_BYTES + (own ? 0 : body.length));
    let pos = this.#offset;
    buf.writeUInt32BE(body.length, pos);
    pos += FRAME_HEADER_BYTES;
    if (own) {
      this.commit(pos);
      this.pushChunk(body);
      return;
    }
    buf.set(body, pos);
    this.commit(pos + body.length);
  }

  /** Sends what is queued now (unless the socket asked us to wait for `'drain'`). */
  flush(): void {
    this.#scheduled = false;
    if (this.#blocked) return;
    const socket = this.#socket;
    if (socket.destroyed) {
      this.#chunks = [];
      this.#start = this.#offset;
      return;
    }
    let ok: boolean;
    if (this.#chunks.length === 0) {
      if (this.#offset === this.#start) return;
      ok = socket.write(this.#arena.subarray(this.#start, this.#offset));
      this.#start = this.#offset;
    } else {
      this.#seal();
      const chunks = this.#chunks;
      this.#chunks = [];
      socket.cork();
      ok = true;
      for (const chunk of chunks) ok = socket.write(chunk) && ok;
      socket.uncork();
    }
    if (!ok) this.#blocked = true;
  }

  /** Moves the arena's unsent segment into the chunk list (a chunk goes after it). */
  #seal(): void {
    if (this.#offset === this.#start) return;
    this.#chunks.push(this.#arena.subarray(this.#start, this.#offset));
    this.#start = this.#offset;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(this.#flush);
  }
}
