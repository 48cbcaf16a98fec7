import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDoctor } from "./index.js";

const fixtures = fileURLToPath(new URL("../../python-bridge/test/fixtures/", import.meta.url));

describe("snakepit doctor", () => {
  it("reports the environment and the adapter's tools", async () => {
    const lines: string[] = [];
    expect(
      await runDoctor({ adapter: `${fixtures}module_tools.py`, print: (l) => lines.push(l) }),
    ).toBe(true);
    expect(lines.join("\n")).toMatch(/ok {3}grpcio \d/);
    expect(lines.join("\n")).toContain("2 tools (greet, upper)");
  });

  it("says what to fix when the adapter does not import", async () => {
    const lines: string[] = [];
    expect(
      await runDoctor({
        adapter: `${fixtures}import_error_adapter.py`,
        print: (l) => lines.push(l),
      }),
    ).toBe(false);
    expect(lines.join("\n")).toContain("FAIL adapter");
    expect(lines.join("\n")).toContain("No module named 'missing_dependency_for_snakepit_tests'");
  });

  it("fails with the reason when Python is missing", async () => {
    const lines: string[] = [];
    expect(await runDoctor({ pythonExecutable: "/no/python", print: (l) => lines.push(l) })).toBe(
      false,
    );
    expect(lines.join("\n")).toContain("[PYTHON_NOT_FOUND]");
  });
});
