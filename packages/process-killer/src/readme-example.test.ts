import { runReadmeExample } from "@snakepit/testing";
import { expect, it } from "vitest";

// The README's ```ts block, run with node against the built package: the example cannot rot.
it("runs the README example", async () => {
  const stdout = await runReadmeExample(new URL("../", import.meta.url));
  const [identity, result] = stdout.trim().split("\n");
  expect(JSON.parse(identity ?? "")).toMatchObject({ marker: "--snakepit-run-id k3x9a2p" });
  expect(result).toBe("signaled SIGTERM");
});
