import { constants, readdirSync } from "node:fs";
import { chmod, type FileHandle, lstat, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readProcessIdentity, verifyIdentity } from "@snakepit/process-killer";

/** A directory only this user can enter, for the Unix sockets of one host run. */
export interface PrivateDirectory {
  readonly path: string;
  /** `unix:` address of a socket named `name` in this directory. */
  socketAddress(name: string): string;
  /** Removes the directory and everything in it. Idempotent. */
  remove(): Promise<void>;
}

// sun_path holds 108 bytes on Linux (104 on macOS); keep socket paths well under it.
const MAX_SOCKET_DIR = 80;
const OWNER_FILE = "owner.json";
const PREFIX = "snakepit-";

function socketBase(): string {
  return tmpdir().length > MAX_SOCKET_DIR - 20 && process.platform !== "win32" ? "/tmp" : tmpdir();
}

/**
 * Creates a 0700 directory under the temp dir (falling back to `/tmp` when `TMPDIR` is too long
 * for socket paths). Sockets inside it are unreachable to other users whatever their own mode.
 * It holds an `owner.json` naming this process (pid and start time), so that
 * {@link removeStaleDirectories} can remove it if this host dies without cleaning up.
 */
export async function createPrivateDirectory(label = ""): Promise<PrivateDirectory> {
  const path = await mkdtemp(join(socketBase(), `${PREFIX}${label === "" ? "" : `${label}-`}`));
  await chmod(path, 0o700);
  const owner = readProcessIdentity(process.pid);
  await writeFile(
    join(path, OWNER_FILE),
    JSON.stringify({ pid: process.pid, startTime: owner?.startTime ?? 0 }),
    { mode: 0o600 },
  );
  return {
    path,
    socketAddress: (name) => `unix:${join(path, name)}`,
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** Options of {@link removeStaleDirectories}. */
export interface RemoveStaleDirectoriesOptions {
  /**
   * Called for each stale directory that could not be removed (it is skipped and the others are
   * still removed): log it. Removal itself never throws, so it can never fail a pool start.
   */
  readonly onError?: (path: string, cause: unknown) => void;
}

/**
 * Removes the socket directories of hosts that died without cleaning up (SIGKILL, OOM): every
 * `snakepit-*` directory in the temp dir whose `owner.json` names a process that is gone or was
 * replaced by another with the same pid. Directories of live hosts are left alone. Returns the
 * paths removed; never throws.
 *
 * Only what this user made is touched: a directory (by `lstat`: a symlink is never followed) owned
 * by the current user with mode 0700 — which no one else can have written into — holding an
 * `owner.json` that is a regular file of ours (opened with `O_NOFOLLOW`). Anything else in the
 * temp dir named `snakepit-*`, such as a directory planted by another local user, is not ours to
 * judge, read or delete.
 */
export async function removeStaleDirectories(
  options: RemoveStaleDirectoriesOptions = {},
): Promise<string[]> {
  const base = socketBase();
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(base).filter((name) => name.startsWith(PREFIX));
  } catch {
    return removed;
  }
  for (const name of entries) {
    const dir = join(base, name);
    try {
      if (!(await isOwnPrivateDirectory(dir))) continue;
      const owner = await readOwner(dir);
      if (
        owner === undefined ||
        owner.pid === process.pid ||
        verifyIdentity({ pid: owner.pid, startTime: owner.startTime, pgid: 0 })
      )
        continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch (cause) {
      options.onError?.(dir, cause);
    }
  }
  return removed;
}

const uid = process.getuid?.();

async function isOwnPrivateDirectory(dir: string): Promise<boolean> {
  const stats = await lstat(dir);
  return (
    stats.isDirectory() &&
    (uid === undefined || stats.uid === uid) &&
    (stats.mode & 0o777) === 0o700
  );
}

/** The directory's `owner.json`, if it is a small regular file of ours that names a process. */
async function readOwner(dir: string): Promise<{ pid: number; startTime: number } | undefined> {
  let file: FileHandle;
  try {
    file = await open(join(dir, OWNER_FILE), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return undefined; // none (a directory mid-creation), or a symlink
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile() || (uid !== undefined && stats.uid !== uid) || stats.size > 4096)
      return undefined;
    const owner = JSON.parse(await file.readFile("utf8")) as { pid?: unknown; startTime?: unknown };
    return Number.isSafeInteger(owner.pid) &&
      (owner.pid as number) > 0 &&
      typeof owner.startTime === "number"
      ? { pid: owner.pid as number, startTime: owner.startTime }
      : undefined;
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}
