import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { scrapeOnce } from "../examples/metrics-endpoint.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = readFileSync(new URL("../examples/metrics-endpoint.ts", import.meta.url), "utf8");

describe("README example (real HTTP scrape)", () => {
  it("is examples/metrics-endpoint.ts verbatim", () => {
    const block = /<!-- example: examples\/metrics-endpoint\.ts -->\n```ts\n([\s\S]*?)```/.exec(
      readme,
    );
    expect(block?.[1]).toBe(example);
  });

  it("scrapes the call it published, and keeps the correlation id across an await", async () => {
    const { correlationId, body } = await scrapeOnce();
    expect(correlationId).toBe("req-42");
    expect(body).toContain('snakepit_calls_total{pool="default",tool="add",outcome="ok"} 1');
    expect(body).toContain('snakepit_workers{pool="default",state="idle"} 1');
  });
});
