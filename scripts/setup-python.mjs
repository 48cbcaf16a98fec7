#!/usr/bin/env node
// Creates (or reuses) the repository's Python environment at `.venv` with the bridge's
// runtime and development requirements. Idempotent: a stamp file holding the hash of the
// requirement files skips the install when nothing changed.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const venv = join(root, ".venv");
const python = join(venv, "bin", "python");
const reqDir = join(root, "packages", "python-bridge", "python");
const files = ["requirements.txt", "requirements-dev.txt"].map((f) => join(reqDir, f));
const hash = createHash("sha256");
for (const f of files) hash.update(readFileSync(f));
const stampFile = join(venv, ".snakepit-stamp");
const stamp = hash.digest("hex");

if (existsSync(python) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) {
  console.log(`python: ${venv} is up to date`);
  process.exit(0);
}
const base = process.env.SNAKEPIT_BASE_PYTHON ?? "python3";
console.log(`python: creating ${venv} with ${base}`);
execFileSync(base, ["-m", "venv", venv], { stdio: "inherit" });
// A mirror-only machine fails fast instead of retrying an unreachable index for minutes.
const env = {
  ...process.env,
  PIP_RETRIES: process.env.PIP_RETRIES ?? "0",
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
};
execFileSync(python, ["-m", "pip", "install", "--progress-bar", "off", "-r", files[1]], {
  stdio: "inherit",
  env,
  cwd: reqDir,
});
writeFileSync(stampFile, stamp);
console.log(`python: ${venv} ready`);
