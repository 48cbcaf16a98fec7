import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { serveWithRecycling } from "../examples/recycle-leaky-worker.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = readFileSync(
  new URL("../examples/recycle-leaky-worker.ts", import.meta.url),
  "utf8",
);

describe("README example (real processes, real memory)", () => {
  it("is examples/recycle-leaky-worker.ts verbatim", () => {
    const block = /<!-- example: examples\/recycle-leaky-worker\.ts -->\n```ts\n([\s\S]*?)```/.exec(
      readme,
    );
    expect(block?.[1]).toBe(example);
  });

  it("recycles the leaking worker by memory and keeps serving", async () => {
    const recycles = await serveWithRecycling(12);
    expect(recycles.length).toBeGreaterThanOrEqual(1);
    expect(recycles[0]).toMatch(/^worker-1: memory \(uses \d+\.\d MiB, limit 150\.0 MiB\)$/);
  });
});
