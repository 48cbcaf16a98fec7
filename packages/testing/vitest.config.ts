import { defineProject } from "vitest/config";

// The leak checker's own tests create and clean up leaks on purpose, so no leak-check setup file here.
export default defineProject({
  test: {
    name: "testing",
    include: ["src/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
  },
});
