import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests use the repository's Python environment (`pnpm setup:python`) unless told otherwise.
const repoPython = fileURLToPath(new URL("./.venv/bin/python", import.meta.url));
const env: Record<string, string> = {};
if (process.env.SNAKEPIT_PYTHON === undefined && existsSync(repoPython))
  env.SNAKEPIT_PYTHON = repoPython;

/** The vitest settings every package shares: real processes, so generous timeouts and leak checks. */
export default defineConfig({
  test: {
    setupFiles: ["@snakepit/testing/setup"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The JSON report feeds the one-line summary `pnpm test` ends with (scripts/test-summary.mjs).
    reporters: [
      "default",
      [
        "json",
        {
          outputFile: `.test-results/vitest-${process.env.SNAKEPIT_START_MODE ?? "spawn"}${process.env.SNAKEPIT_TRANSPORT === "grpc" ? "-grpc" : ""}.json`,
        },
      ],
    ],
    env,
  },
});
