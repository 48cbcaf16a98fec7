import { fileURLToPath } from "node:url";
import { defineProject, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineProject({
    // README examples import the package by name; run them against the source.
    resolve: {
      alias: {
        "@snakepit/session-redis": fileURLToPath(new URL("./src/index.ts", import.meta.url)),
      },
    },
    test: { name: "session-redis" },
  }),
);
