import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../", import.meta.url));

// The README's ```ts block, transpiled and run with node against the built package (`dist/`),
// imported by its own name: the example cannot rot.
it("runs the README example", async () => {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const source = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (source === undefined) throw new Error("README.md has no ```ts block");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  // Inside the package directory, so `@snakepit/process-killer` resolves to itself.
  const file = `${root}.readme-example-${process.pid}.mjs`;
  writeFileSync(file, outputText);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 20_000 });
    const [identity, result] = stdout.trim().split("\n");
    expect(JSON.parse(identity ?? "")).toMatchObject({ marker: "--snakepit-run-id k3x9a2p" });
    expect(result).toBe("signaled SIGTERM");
  } finally {
    rmSync(file, { force: true });
  }
});
