import { readFileSync } from "node:fs";
import { isSnakepitError } from "@snakepit/errors";
import { describe, expect, it } from "vitest";
import { watchHealthUntilDown } from "../examples/http-health.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = readFileSync(new URL("../examples/http-health.ts", import.meta.url), "utf8");

describe("README example (real HTTP server, real time)", () => {
  it("is examples/http-health.ts verbatim", () => {
    const block = /<!-- example: examples\/http-health\.ts -->\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(block?.[1]).toBe(example);
  });

  it("sees pongs from /health, then fails once after the server closes", async () => {
    const started = Date.now();
    const { failure, pongs } = await watchHealthUntilDown();
    expect(pongs).toBeGreaterThanOrEqual(3);
    expect(failure.reason).toBe("max-missed");
    expect(failure.missed).toBe(3);
    expect(failure.lastCause).toBe("rejected");
    expect(isSnakepitError(failure.error, "HEARTBEAT_FAILED")).toBe(true);
    // 3 healthy beats + about 2 intervals of refused connections
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
