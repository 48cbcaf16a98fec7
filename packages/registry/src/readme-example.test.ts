import { runReadmeExample } from "@snakepit/testing";
import { expect, it } from "vitest";

// The README's ```ts block, run with node against the built package: the example cannot rot.
it("runs the README example", async () => {
  const stdout = await runReadmeExample(new URL("../", import.meta.url));
  expect(stdout).toContain("orphans killed at start: 0");
  expect(stdout).toContain("worker-1 is active");
  expect(stdout).toContain("worker-1 stopped: signaled");
  expect(stdout).toContain("no orphans found");
});
