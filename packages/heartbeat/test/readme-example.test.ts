import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");
const example = readFileSync(`${root}examples/http-health.ts`, "utf8");

describe("README example (real HTTP server, real time)", () => {
  it("is examples/http-health.ts verbatim", () => {
    const block = /<!-- example: examples\/http-health\.ts -->\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(block?.[1]).toBe(example);
  });

  // Run as a user would: a script of its own, transpiled and run by node against the built
  // package (`dist/`), imported by its own name. Importing it into the test process would hide
  // an early exit (code 13) because vitest keeps the event loop alive.
  it("runs as a script: pongs from /health, then fails once, prints it and exits 0", async () => {
    const { outputText } = ts.transpileModule(example, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    // Inside the package directory, so `@snakepit/heartbeat` resolves to itself.
    const file = `${root}.readme-example-${process.pid}.mjs`;
    writeFileSync(file, outputText);
    try {
      const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
        (resolve) => {
          const child = execFile(
            process.execPath,
            [file],
            { timeout: 20_000 },
            (_e, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
          );
        },
      );
      expect(outcome).toEqual({
        code: 0,
        stdout: "3 pongs, then max-missed after 3 misses (HEARTBEAT_FAILED)\n",
        stderr: "",
      });
    } finally {
      rmSync(file, { force: true });
    }
  });
});
