import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
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
  /** The active handles themselves (sockets, servers, child processes), to name a leaked one. */
  readonly handles: ReadonlySet<object>;
}

/** Node's list of the handles keeping the loop alive (undocumented, stable since Node 0.x). */
function activeHandles(): object[] {
  const list = (process as unknown as { _getActiveHandles?: () => object[] })._getActiveHandles;
  return typeof list === "function" ? list.call(process) : [];
}

/** The path a Unix socket (`socket:[inode]`) is bound to or was accepted on, from `/proc/net/unix`. */
function unixSocketPath(fdTarget: string): string | undefined {
  const inode = /^socket:\[(\d+)\]$/.exec(fdTarget)?.[1];
  if (inode === undefined) return undefined;
  try {
    for (const line of readFileSync("/proc/net/unix", "utf8").split("\n")) {
      const fields = line.trim().split(/\s+/);
      if (fields[6] === inode && fields[7] !== undefined) return fields[7];
    }
  } catch {
    // not Linux
  }
  return undefined;
}

/**
 * Names a handle well enough to find who opened it: its class, and for a socket its fd (with what
 * `/proc/self/fd` says it is), its addresses and its stream state (a socket that is never read
 * never sees its peer's EOF).
 */
export function describeHandle(handle: object): string {
  const h = handle as Record<string, unknown> & { _handle?: { fd?: number } | null };
  const name = handle.constructor?.name ?? typeof handle;
  const parts: string[] = [];
  const fd = h._handle?.fd;
  if (typeof fd === "number" && fd >= 0) {
    let target = "?";
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // closed meanwhile
    }
    parts.push(`fd ${fd} (${target})`);
    const path = unixSocketPath(target);
    if (path !== undefined) parts.push(`path ${path}`);
  }
  for (const key of ["localAddress", "remoteAddress", "pid", "spawnfile"]) {
    const value = h[key];
    if (value !== undefined && value !== "") parts.push(`${key} ${String(value)}`);
  }
  for (const key of ["destroyed", "pending", "connecting", "readableFlowing", "readableEnded"]) {
    if (key in h) parts.push(`${key} ${String(h[key])}`);
  }
  return `${name}: ${parts.join(", ")}`;
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
    handles: new Set(activeHandles()),
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
  if (leaks.length > 0) {
    for (const handle of after.handles) {
      if (!before.handles.has(handle)) leaks.push(`new handle ${describeHandle(handle)}`);
    }
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
