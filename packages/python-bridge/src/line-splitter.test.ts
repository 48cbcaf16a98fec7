import { spawn } from "node:child_process";
import { once } from "node:events";
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { LineSplitter, maxLineBytes, splitLines, truncationMarker } from "./line-splitter.js";
import { maxTailLineLength, OutputTail } from "./output-tail.js";

const python = process.env.SNAKEPIT_PYTHON ?? "python3";
const MiB = 1024 * 1024;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function collect(maxBytes?: number): { lines: string[]; splitter: LineSplitter } {
  const lines: string[] = [];
  return { lines, splitter: new LineSplitter((line) => lines.push(line), maxBytes) };
}

describe("LineSplitter", () => {
  it("splits lines across chunks, keeps empty lines and passes a last line on at the end", () => {
    const { lines, splitter } = collect();
    for (const chunk of ["a", "b\nc\n", "\nd"]) splitter.push(Buffer.from(chunk));
    expect(lines).toEqual(["ab", "c", ""]);
    splitter.end();
    expect(lines).toEqual(["ab", "c", "", "d"]);
  });

  it("decodes a multi-byte character split between chunks", () => {
    const { lines, splitter } = collect();
    const bytes = Buffer.from("é€\n");
    for (const byte of bytes) splitter.push(Buffer.from([byte]));
    expect(lines).toEqual(["é€"]);
  });

  it("cuts a line longer than the cap at a character boundary and says how much it dropped", () => {
    const { lines, splitter } = collect(5);
    splitter.push(Buffer.from("abcd€fgh\nok\n")); // 10 bytes; € is bytes 4-6
    expect(lines).toEqual([`abcd${truncationMarker(6)}`, "ok"]);
  });

  it("holds at most the cap in memory while a line goes on", () => {
    const { lines, splitter } = collect(1024);
    for (let i = 0; i < 100; i++) splitter.push(Buffer.alloc(1000, "x"));
    expect(splitter.bufferedBytes).toBe(1024);
    splitter.end();
    expect(lines).toEqual([`${"x".repeat(1024)}${truncationMarker(100_000 - 1024)}`]);
  });
});

describe("splitLines on a real process's output", () => {
  it("cuts a 16 MiB line to the documented cap with the marker, and the next line is whole", async () => {
    const child = spawn(python, [
      "-c",
      "import sys; sys.stdout.write('x' * (16 * 2**20) + '\\nnext\\n')",
    ]);
    const lines: string[] = [];
    splitLines(child.stdout, (line) => lines.push(line));
    await once(child.stdout, "end");
    expect(lines).toEqual([
      `${"x".repeat(maxLineBytes)}${truncationMarker(16 * MiB - maxLineBytes)}`,
      "next",
    ]);
  });

  it("keeps memory bounded while 32 MiB arrive without a newline", async () => {
    // The child writes 32 MiB, then waits for stdin to close before it exits.
    const child = spawn(python, [
      "-c",
      "import sys; sys.stdout.write('y' * (32 * 2**20)); sys.stdout.flush(); sys.stdin.read()",
    ]);
    gc();
    const before = process.memoryUsage();
    const lines: string[] = [];
    splitLines(child.stdout, (line) => lines.push(line));
    let received = 0;
    const all = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer | string) => {
        received += chunk.length;
        if (received >= 32 * MiB) resolve();
      }),
    );
    await all;
    gc();
    const after = process.memoryUsage();
    const retained = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    child.stdin.end();
    await once(child.stdout, "end");
    // Before the fix the whole 32 MiB stayed buffered as one string (and cost seconds of CPU).
    expect(retained).toBeLessThan(8 * MiB);
    expect(lines).toEqual([
      `${"y".repeat(maxLineBytes)}${truncationMarker(32 * MiB - maxLineBytes)}`,
    ]);
    if (child.exitCode === null) await once(child, "exit");
  });
});

describe("OutputTail", () => {
  it("keeps the last lines, each cut to a bounded length", () => {
    const tail = new OutputTail(2);
    tail.push("first");
    tail.push("z".repeat(maxTailLineLength + 10));
    tail.push("last");
    const [long, last] = tail.toString().split("\n");
    expect(long).toBe(`${"z".repeat(maxTailLineLength)} …[10 more characters]`);
    expect(last).toBe("last");
  });
});
