import { link, readFile, rename, unlink } from "node:fs/promises";
import { readProcessIdentity } from "@snakepit/process-killer";
import type { LockOwner, RunLock } from "./registry-store.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * An exclusive lock file holding its owner as JSON. Creation is `link()` of a fully written
 * temp file (atomic, fails if the lock exists), so a lock file is never seen half-written.
 * A lock whose owner process is dead (or whose pid was reused) is moved aside with `rename()`
 * (only one taker can move it) and retaken; a taker that moved a lock someone else had just
 * retaken puts it back and gives way.
 */
export async function acquireFileLock(path: string, owner: LockOwner): Promise<RunLock> {
  const body = `${JSON.stringify(owner)}\n`;
  let holder: LockOwner | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(path, body, owner.token)) {
      return { acquired: true, release: () => releaseFileLock(path, owner.token) };
    }
    holder = await readOwner(path);
    if (holder === undefined) continue; // released meanwhile: try again
    if (ownerAlive(holder)) return { acquired: false, holder };
    const aside = `${path}.stale-${owner.token}`;
    try {
      await rename(path, aside);
    } catch {
      continue; // another taker moved it first
    }
    const moved = await readOwner(aside);
    if (moved !== undefined && moved.token !== holder.token) {
      // We moved a fresh lock that another sweeper took after our read: give it back.
      await link(aside, path).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
      return { acquired: false, holder: moved };
    }
    await unlink(aside).catch(() => undefined);
  }
  return { acquired: false, holder };
}

async function createExclusive(path: string, body: string, token: string): Promise<boolean> {
  const tmp = `${path}.${token}.new`;
  await writeFileAtomic(tmp, body);
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function releaseFileLock(path: string, token: string): Promise<void> {
  // Only remove the lock if it is still ours (it could have been taken over as stale).
  if ((await readOwner(path))?.token === token) await unlink(path).catch(() => undefined);
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const value = JSON.parse(await readFile(path, "utf8")) as Partial<LockOwner>;
    if (typeof value.pid === "number" && typeof value.token === "string") {
      return value as LockOwner;
    }
  } catch {
    // missing or unreadable: treated as no lock
  }
  return undefined;
}

function ownerAlive(owner: LockOwner): boolean {
  return readProcessIdentity(owner.pid)?.startTime === owner.startTime;
}
