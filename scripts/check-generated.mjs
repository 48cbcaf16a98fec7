#!/usr/bin/env node
// Fails when regenerating the contract's stubs (TypeScript and Python) changes the tree,
// and when the contract fails `buf lint` or breaks compatibility with the committed one.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });
run("pnpm", ["exec", "buf", "lint"]);
// Breaking-change check against the previous commit's contract (the committed contract when
// the working tree has changes). A new major version belongs in a new package (`v2`).
const hasProto = (ref) => {
  try {
    execFileSync("git", ["cat-file", "-e", `${ref}:proto`], { cwd: root, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const dirty =
  execFileSync("git", ["status", "--porcelain", "--", "proto"], {
    cwd: root,
    encoding: "utf8",
  }).trim() !== "";
const base = [dirty ? "HEAD" : "HEAD~1", "HEAD"].find(hasProto);
if (base === undefined) console.log("buf breaking: no earlier contract to compare with");
else
  run("pnpm", ["exec", "buf", "breaking", "proto", "--against", `.git#ref=${base},subdir=proto`]);
run("pnpm", ["--filter", "@snakepit/python-bridge", "run", "generate"]);
const diff = execFileSync(
  "git",
  [
    "status",
    "--porcelain",
    "--",
    "packages/python-bridge/src/gen",
    "packages/python-bridge/python/snakepit_bridge/gen",
  ],
  { cwd: root, encoding: "utf8" },
);
if (diff.trim() !== "") {
  console.error(`Generated code is stale. Run \`pnpm generate\` and commit:\n${diff}`);
  process.exit(1);
}
console.log("generated code is up to date");
