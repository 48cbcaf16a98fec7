#!/usr/bin/env node
// Prints one closing line for the whole suite, summed over every package's vitest JSON reports
// (one per start mode) and the pytest JUnit report: `Tests: N passed, N failed, N skipped`. Exits 1 if any failed.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of ["packages", "apps"]) {
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name, ".test-results");
    const reports = existsSync(dir)
      ? readdirSync(dir).filter((f) => /^vitest.*\.json$/.test(f))
      : [];
    for (const report of reports) {
      const r = JSON.parse(readFileSync(join(dir, report), "utf8"));
      passed += r.numPassedTests;
      failed += r.numFailedTests;
      skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    }
    const pytest = join(dir, "pytest.xml");
    if (existsSync(pytest)) {
      const suite = /<testsuite\b[^>]*>/.exec(readFileSync(pytest, "utf8"))?.[0] ?? "";
      const attr = (k) => Number(new RegExp(`\\b${k}="(\\d+)"`).exec(suite)?.[1] ?? 0);
      failed += attr("failures") + attr("errors");
      skipped += attr("skipped");
      passed += attr("tests") - attr("failures") - attr("errors") - attr("skipped");
    }
  }
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
