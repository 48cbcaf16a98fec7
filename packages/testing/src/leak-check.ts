import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { commandLine, ownListeningSockets, pidsWithEnv } from "./proc.js";

/** The environment variable that tags every process a test file starts (inherited by children). */
export const TEST_TAG_ENV = "SNAKEPIT_TEST_TAG";

/** Resource types of `process.getActiveResourcesInfo()` that a finished test must not leave behind. */
const WATCHED_RESOURCES = new Set([
  "Timeout",
  "ProcessWrap",
  "PipeWrap",
  "TCPWrap",
  "TCPServerWrap",
  "PipeServerWrap",
  "Immediate",
]);

/** What a test could leak, at one moment. */
export interface ResourceSnapshot {
  /** Running processes tagged with this file's test tag (orphans included: the tag is inherited). */
  readonly processes: readonly number[];
  /** Entries of the temp directory: all of them under the test setup's private `TMPDIR`, else those named `snakepit*`. */
  readonly tempEntries: readonly string[];
  /** Listening TCP and Unix sockets held by this process. */
  readonly listeners: readonly string[];
  /** Counts of active handles and timers by type. */
  readonly resources: Readonly<Record<string, number>>;
}

/** Tags this test process so every process it starts can be found later, even re-parented. */
export function ensureTestTag(): string {
  process.env[TEST_TAG_ENV] ??= randomUUID();
  return process.env[TEST_TAG_ENV];
}

/** Takes a {@link ResourceSnapshot} of the current process. */
export function snapshotResources(): ResourceSnapshot {
  const tag = ensureTestTag();
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (WATCHED_RESOURCES.has(type)) resources[type] = (resources[type] ?? 0) + 1;
  }
  let tempEntries: string[] = [];
  try {
    const privateTmp = tmpdir().includes("sp-test-");
    tempEntries = readdirSync(tmpdir()).filter((n) => privateTmp || n.startsWith("snakepit"));
  } catch {
    tempEntries = [];
  }
  return {
    processes: pidsWithEnv(TEST_TAG_ENV, tag),
    tempEntries,
    listeners: ownListeningSockets(),
    resources,
  };
}

/** Lists what `after` holds that `before` did not; empty when nothing leaked. */
export function diffResources(before: ResourceSnapshot, after: ResourceSnapshot): string[] {
  const leaks: string[] = [];
  for (const pid of after.processes) {
    if (!before.processes.includes(pid))
      leaks.push(`process ${pid} (${commandLine(pid) || "?"}) is still running`);
  }
  for (const entry of after.tempEntries) {
    if (!before.tempEntries.includes(entry)) leaks.push(`temp entry ${entry} was left behind`);
  }
  for (const listener of after.listeners) {
    if (!before.listeners.includes(listener))
      leaks.push(`listening socket ${listener} is still open`);
  }
  for (const [type, count] of Object.entries(after.resources)) {
    const was = before.resources[type] ?? 0;
    if (count > was)
      leaks.push(`${count - was} active ${type} handle(s) left (was ${was}, now ${count})`);
  }
  return leaks;
}

/**
 * Waits up to `settleMs` for the resources to return to `before` (closing handles take a tick
 * or two), then returns what still leaks.
 */
export async function findLeaks(before: ResourceSnapshot, settleMs = 2000): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const leaks = diffResources(before, snapshotResources());
    if (leaks.length === 0 || Date.now() >= deadline) return leaks;
    await new Promise<void>((resolve) => setTimeout(resolve, 25).unref());
  }
}
