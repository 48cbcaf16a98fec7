import { type ExecFileSyncOptions, execFileSync } from "node:child_process";

/** A second local Unix user, for tests of what another user on the machine can do to us. */
export interface SecondUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

const NAME = "snakepit-neighbour";

function lookUp(): SecondUser | undefined {
  try {
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, NAME], { encoding: "utf8", stdio: "pipe" }).trim());
    return { name: NAME, uid: id("-u"), gid: id("-g") };
  } catch {
    return undefined;
  }
}

/**
 * The user `snakepit-neighbour`, created (a system user without home or shell) if absent; or a
 * string saying why there is none (not root, no `useradd`), for `it.skip` with a printed reason.
 */
export function secondUser(): SecondUser | string {
  if (process.platform !== "linux") return `second-user tests need Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return "second-user tests need root to create a user";
  const found = lookUp();
  if (found !== undefined) return found;
  try {
    execFileSync(
      "useradd",
      ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME],
      {
        stdio: "pipe",
      },
    );
  } catch (err) {
    // Another suite may have created it at the same moment.
    return lookUp() ?? `could not create a second user: ${(err as Error).message}`;
  }
  return lookUp() ?? "useradd succeeded but the user cannot be looked up";
}

/**
 * Runs `command` as `user` (with `setpriv`, no PAM session) and returns its stdout. Throws when it
 * fails, with its stderr in the message.
 */
export function runAs(
  user: SecondUser,
  command: string,
  args: readonly string[],
  options: ExecFileSyncOptions = {},
): string {
  return execFileSync(
    "setpriv",
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", command, ...args],
    { encoding: "utf8", stdio: "pipe", ...options },
  ).toString();
}
