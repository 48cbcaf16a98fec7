import { readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
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

/**
 * Removes the socket directories of hosts that died without cleaning up (SIGKILL, OOM): every
 * `snakepit-*` directory in the temp dir whose `owner.json` names a process that is gone or was
 * replaced by another with the same pid. Directories of live hosts are left alone. Returns the
 * paths removed.
 */
export async function removeStaleDirectories(): Promise<string[]> {
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
    let owner: { pid: number; startTime: number };
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as typeof owner;
    } catch {
      continue; // not ours, or not readable by us
    }
    if (
      owner.pid === process.pid ||
      verifyIdentity({ pid: owner.pid, startTime: owner.startTime, pgid: 0 })
    )
      continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
