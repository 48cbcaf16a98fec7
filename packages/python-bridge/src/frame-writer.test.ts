import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FrameWriter } from "./frame-writer.js";

// FrameWriter over a real Unix socket: what arrives is every frame, in order, whatever mix of
// small frames (copied into the arena), chunks pushed as they are, arena boundaries and
// backpressure.

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.reverse()) f();
  cleanup = [];
});

/** A connected pair: `client` writes, everything `server` receives is in `received()`. */
async function pair(): Promise<{ client: Socket; peer: Socket; received: () => Buffer }> {
  const dir = mkdtempSync(join(tmpdir(), "snakepit-writer-"));
  const path = join(dir, "s.sock");
  const chunks: Buffer[] = [];
  let peer: Socket | undefined;
  const server: Server = createServer((s) => {
    peer = s;
    s.on("data", (c: Buffer) => chunks.push(c));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const client = await new Promise<Socket>((resolve) => {
    const c: Socket = connect(path, () => resolve(c));
  });
  while (peer === undefined) await new Promise((r) => setImmediate(r));
  const accepted = peer;
  cleanup.push(() => {
    client.destroy();
    accepted.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { client, peer: accepted, received: () => Buffer.concat(chunks) };
}

function frame(length: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (seed * 31 + i) & 0xff;
  return b;
}

const framed = (body: Uint8Array) => {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return [head, body];
};

async function until(f: () => boolean): Promise<void> {
  while (!f()) await new Promise((r) => setTimeout(r, 5));
}

describe("FrameWriter", () => {
  it("sends small frames, large ones and raw chunks in order, across ticks and arena boundaries", async () => {
    const { client, received } = await pair();
    const writer = new FrameWriter(client);
    const expected: Uint8Array[] = [];
    let seed = 0;
    for (let tick = 0; tick < 20; tick++) {
      for (let i = 0; i < 60; i++) {
        const body = frame((seed * 7919) % 2000, seed++);
        writer.push(body);
        expected.push(...framed(body));
      }
      // A frame of its own chunk (≥ 64 KiB), then the raw-chunk path the execute encoder uses.
      const large = frame(70_000 + tick, seed++);
      writer.push(large);
      expected.push(...framed(large));
      const head = writer.room(4);
      head.writeUInt32BE(100_000, writer.offset);
      writer.commit(writer.offset + 4);
      const raw = frame(100_000, seed++);
      writer.pushChunk(raw);
      expected.push(...framed(raw));
      await new Promise((r) => setImmediate(r));
    }
    const all = Buffer.concat(expected);
    await until(() => received().length >= all.length);
    expect(received().equals(all)).toBe(true);
  });

  it("holds frames while the socket is full and sends them all, in order, after 'drain'", async () => {
    const { client, peer, received } = await pair();
    peer.pause();
    const writer = new FrameWriter(client);
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const body = frame(i % 2 === 0 ? 50_000 : 300, i);
      writer.push(body);
      expected.push(...framed(body));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 50));
    // The peer reads nothing: the socket's buffers are full, the rest waits in the writer.
    expect(client.writableNeedDrain).toBe(true);
    peer.resume();
    const all = Buffer.concat(expected);
    await until(() => received().length >= all.length);
    expect(received().equals(all)).toBe(true);
  });

  it("never writes again into a region handed to the socket, even when the kernel has not taken it yet", async () => {
    const { client, peer, received } = await pair();
    peer.pause();
    const writer = new FrameWriter(client);
    const expected: Uint8Array[] = [];
    // One small frame per tick: once the kernel's buffer is full, Node queues each write (still
    // under its high-water mark, so the writer keeps flushing) with a view of the arena.
    for (let i = 0; i < 2000; i++) {
      const body = frame(700, i);
      writer.push(body);
      expected.push(...framed(body));
      await new Promise((r) => setImmediate(r));
    }
    expect(client.writableLength).toBeGreaterThan(0);
    peer.resume();
    const all = Buffer.concat(expected);
    await until(() => received().length >= all.length);
    expect(received().equals(all)).toBe(true);
  });
});
