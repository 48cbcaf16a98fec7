#!/usr/bin/env node
// Fails when a publishable package's tarball would ship junk: Python bytecode caches, tests and
// test helpers, tool caches, build info. Packs every non-private package under packages/ with
// `pnpm pack` (what `pnpm publish` packs) after planting canary junk in every directory the
// package ships Python from, so the check holds on a clean checkout too (no __pycache__ there until Python
// has run). Needs `dist/` built. Run by `pnpm test`.
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const junk = [
  [/(^|\/)__pycache__\//, "a __pycache__ directory"],
  [/\.py[co]$/, "Python bytecode"],
  [
    /\.test(-helper)?\.[cm]?[jt]s(\.map)?$|\.test\.d\.ts(\.map)?$|\.test-helper\.d\.ts(\.map)?$/,
    "a test file",
  ],
  [
    /(^|\/)(node_modules|\.venv|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.test-results|\.turbo)\//,
    "a tool's directory",
  ],
  [/\.tsbuildinfo$|(^|\/)\.DS_Store$|(^|\/)\.readme-example-/, "build or test leftovers"],
];
const canaryName = "snakepit-pack-canary";

const packages = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ manifest }) => manifest.private !== true);

/** Every directory with Python files that a package ships (below its `files` entries). */
function shippedDirectories(dir, files) {
  const found = [];
  const walk = (path) => {
    const entries = readdirSync(path, { withFileTypes: true });
    if (entries.some((entry) => entry.isFile() && entry.name.endsWith(".py"))) found.push(path);
    for (const entry of entries) {
      if (entry.isDirectory() && !/^(__pycache__|node_modules|\.)/.test(entry.name))
        walk(join(path, entry.name));
    }
  };
  for (const entry of files ?? []) {
    const path = join(dir, entry);
    if (!entry.startsWith("!") && existsSync(path) && statSync(path).isDirectory()) walk(path);
  }
  return found;
}

const planted = [];
function plant(directory) {
  const cache = join(directory, "__pycache__");
  const cacheExisted = existsSync(cache);
  mkdirSync(cache, { recursive: true });
  for (const file of [join(cache, `${canaryName}.pyc`), join(directory, `${canaryName}.pyc`)]) {
    writeFileSync(file, "");
    planted.push(file);
  }
  if (!cacheExisted) planted.push(cache);
}

const failures = [];
try {
  for (const { dir, manifest } of packages)
    for (const d of shippedDirectories(dir, manifest.files)) plant(d);
  // One pnpm for all packages; --dry-run lists exactly what `pnpm pack` would put in each tarball.
  const { stdout } = await promisify(execFile)("pnpm", ["-r", "pack", "--dry-run", "--json"], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const packs = new Map(JSON.parse(stdout.slice(stdout.indexOf("["))).map((p) => [p.name, p]));
  for (const { manifest } of packages) {
    const paths = packs.get(manifest.name)?.files.map((f) => f.path) ?? [];
    if (!paths.some((p) => p.startsWith("dist/")))
      failures.push(`${manifest.name}: no dist/ in the tarball (run \`pnpm build\` first)`);
    for (const path of paths) {
      const hit = junk.find(([pattern]) => pattern.test(path));
      if (hit !== undefined) failures.push(`${manifest.name}: ${path} (${hit[1]})`);
    }
  }
} finally {
  for (const path of planted.reverse()) rmSync(path, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`Tarballs would ship junk:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log(`check:packs: ${packages.length} tarballs, no junk`);
