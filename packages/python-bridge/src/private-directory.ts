import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

/**
 * Creates a 0700 directory under the temp dir (falling back to `/tmp` when `TMPDIR` is too long
 * for socket paths). Sockets inside it are unreachable to other users whatever their own mode.
 */
export async function createPrivateDirectory(prefix = "snakepit-"): Promise<PrivateDirectory> {
  const base =
    tmpdir().length > MAX_SOCKET_DIR - 20 && process.platform !== "win32" ? "/tmp" : tmpdir();
  const path = await mkdtemp(join(base, prefix));
  await chmod(path, 0o700);
  return {
    path,
    socketAddress: (name) => `unix:${join(path, name)}`,
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
