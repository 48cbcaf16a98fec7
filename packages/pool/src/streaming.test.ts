import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { echoAdapter, rejection, usePool } from "./pool-test-helpers.test-helper.js";

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
function markerPath(): string {
  dir ??= mkdtempSync(join(tmpdir(), "stream-"));
  return join(dir, "closed");
}

describe("executeStream", () => {
  it("yields a generator tool's chunks in order", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1 });
    const chunks: number[] = [];
    for await (const n of pool.executeStream<number>("count", { n: 5 })) chunks.push(n);
    expect(chunks).toEqual([0, 1, 2, 3, 4]);
    expect(pool.stats().callsSucceeded).toBe(1);
  });

  it("breaking out of the loop cancels the call and closes the Python generator", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1 });
    const marker = markerPath();
    const chunks: number[] = [];
    for await (const n of pool.executeStream<number>("count", { n: 1000, delay: 0.01, marker })) {
      chunks.push(n);
      if (n === 2) break;
    }
    expect(chunks).toEqual([0, 1, 2]);
    await waitFor(() => existsSync(marker), { message: "the generator's finally block to run" });
    // The worker is free again.
    expect(await pool.execute("add", { a: 1, b: 2 })).toBe(3);
  });

  it("aborting the signal mid-stream rejects with ABORTED and closes the generator", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1 });
    const marker = markerPath();
    const controller = new AbortController();
    const consume = async () => {
      for await (const n of pool.executeStream<number>(
        "count",
        { n: 1000, delay: 0.01, marker },
        { signal: controller.signal },
      )) {
        if (n === 3) controller.abort();
      }
    };
    expect((await rejection(consume())).code).toBe("ABORTED");
    await waitFor(() => existsSync(marker), { message: "the generator's finally block to run" });
  });

  it("streaming a tool that is not a generator rejects with INVALID_ARGUMENTS", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1 });
    const consume = async () => {
      for await (const _ of pool.executeStream("echo", { value: 1 })) {
        // echo is not a generator tool
      }
    };
    expect((await rejection(consume())).code).toBe("INVALID_ARGUMENTS");
  });
});
