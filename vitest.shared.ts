import { defineConfig } from "vitest/config";

/** The vitest settings every package shares: real processes, so generous timeouts and leak checks. */
export default defineConfig({
  test: {
    setupFiles: ["@snakepit/testing/setup"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
