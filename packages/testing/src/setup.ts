/**
 * A vitest setup file (`setupFiles: ["@snakepit/testing/setup"]`): every test fails when it
 * leaves behind a process it started (found by an inherited environment tag, so re-parented
 * orphans count), a temp entry (socket directories, ready files; each test file gets its own
 * `TMPDIR`), a listening
 * socket, or an active handle or timer.
 */
import { afterEach, beforeEach, expect } from "vitest";
import {
  ensureTestTag,
  findLeaks,
  type ResourceSnapshot,
  snapshotResources,
} from "./leak-check.js";

ensureTestTag();
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
