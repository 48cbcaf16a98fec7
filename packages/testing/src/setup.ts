/**
 * A vitest setup file (`setupFiles: ["@snakepit/testing/setup"]`): every test fails when it
 * leaves behind a process it started (found by an inherited environment tag, so re-parented
 * orphans count), a temp entry (socket directories, ready files), a listening socket, or an
 * active handle or timer.
 *
 * Each test file gets a temp directory of its own as `TMPDIR` (inherited by the processes it
 * starts), so files running in parallel never see each other's temp entries, and registries
 * keep their records in it (`XDG_STATE_HOME`), never in the user's state directory.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, expect } from "vitest";
import {
  ensureTestTag,
  findLeaks,
  type ResourceSnapshot,
  snapshotResources,
} from "./leak-check.js";

ensureTestTag();
const privateTmp = mkdtempSync(join(tmpdir(), "sp-test-"));
process.env.TMPDIR = privateTmp;
mkdirSync(join(privateTmp, "state"));
process.env.XDG_STATE_HOME = join(privateTmp, "state");
afterAll(() => rmSync(privateTmp, { recursive: true, force: true }));

let before: ResourceSnapshot | undefined;

beforeEach(() => {
  before = snapshotResources();
});

afterEach(async (context) => {
  if (before === undefined) return;
  const leaks = await findLeaks(before);
  before = undefined;
  if (leaks.length > 0) {
    context.onTestFailed(() => undefined);
    expect.fail(`Test leaked resources:\n  - ${leaks.join("\n  - ")}`);
  }
});
