import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";

/**
 * Runs a package README's first ```ts block as a script and resolves with its stdout: transpiled,
 * written inside the package directory (so the package's own name resolves to its built `dist/`),
 * run with this Node, removed after. A README example run this way cannot rot.
 */
export async function runReadmeExample(
  packageDir: URL,
  { timeoutMs = 20_000 } = {},
): Promise<string> {
  const root = fileURLToPath(packageDir);
  const readme = readFileSync(`${root}/README.md`, "utf8");
  const source = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (source === undefined) throw new Error(`${root}/README.md has no \`\`\`ts block`);
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = `${root}/.readme-example-${process.pid}.mjs`;
  writeFileSync(file, outputText);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: timeoutMs });
    return stdout;
  } finally {
    rmSync(file, { force: true });
  }
}
