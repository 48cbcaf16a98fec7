import { randomBytes } from "node:crypto";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { SnakepitError } from "@snakepit/errors";
import { readProcessIdentity } from "@snakepit/process-killer";

interface LockOwner {
  readonly pid: number;
  readonly startTime: number;
  readonly token: string;
}

/** A held lock: release it when done (idempotent; only removes the lock while it is ours). */
export interface VenvLock {
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock file `path` (its owner as JSON), waiting while another live process
 * holds it: so concurrent first runs build one venv, once. Created by `link()` of a fully
 * written temp file (atomic, never seen half-written); a lock whose owner died (or whose pid
 * was reused) is moved aside with `rename()` (only one taker wins) and retaken. `onWait` is
 * called once, with the holder's pid, when we have to wait.
 */
export async function acquireVenvLock(
  path: string,
  options: { signal?: AbortSignal | undefined; onWait?: (pid: number) => void; pollMs?: number },
): Promise<VenvLock> {
  const self = readProcessIdentity(process.pid);
  const owner: LockOwner = {
    pid: process.pid,
    startTime: self?.startTime ?? 0,
    token: randomBytes(8).toString("hex"),
  };
  let told = false;
  for (;;) {
    if (options.signal?.aborted) throw SnakepitError.from(options.signal.reason, "ABORTED");
    if (await createExclusive(path, owner)) {
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          const current = await readOwner(path);
          if (typeof current === "object" && current.token === owner.token)
            await unlink(path).catch(() => {});
        },
      };
    }
    const holder = await readOwner(path);
    if (holder === "missing") continue; // released meanwhile
    // A live holder: wait. A dead one (or an unreadable lock): move it aside and retake.
    if (holder !== "corrupt" && readProcessIdentity(holder.pid)?.startTime === holder.startTime) {
      if (!told) options.onWait?.(holder.pid);
      told = true;
      await sleep(options.pollMs ?? 200, undefined, { signal: options.signal }).catch(() => {});
      continue;
    }
    const aside = `${path}.stale-${owner.token}`;
    try {
      await rename(path, aside);
    } catch {
      continue; // another taker moved it first
    }
    const moved = await readOwner(aside);
    const stale = holder === "corrupt" ? undefined : holder.token;
    // We moved a fresh lock that another process took after our read: give it back.
    if (typeof moved === "object" && moved.token !== stale) await link(aside, path).catch(() => {});
    await unlink(aside).catch(() => {});
  }
}

async function createExclusive(path: string, owner: LockOwner): Promise<boolean> {
  const tmp = `${path}.${owner.token}.new`;
  await writeFile(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function readOwner(path: string): Promise<LockOwner | "missing" | "corrupt"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw err;
  }
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === "number" && typeof value.token === "string") return value as LockOwner;
  } catch {
    // not JSON: below
  }
  return "corrupt";
}
