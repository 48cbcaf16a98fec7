import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runAs, type SecondUser, secondUser } from "@snakepit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPrivateDirectory, removeStaleDirectories } from "./private-directory.js";

const user = secondUser();
if (typeof user === "string") console.log(`private-directory: skipping second-user tests: ${user}`);
const withUser = typeof user === "string" ? it.skip : it;
const other = user as SecondUser;

/** A pid that named a process a moment ago and names none now. */
function deadPid(): number {
  const pid = spawnSync("true").pid;
  if (pid === undefined) throw new Error("could not spawn `true`");
  return pid;
}
const staleOwner = () => JSON.stringify({ pid: deadPid(), startTime: 1 });

// Each test gets its own temp dir (sticky and world-writable, like /tmp) so that it neither
// sees nor removes the socket directories of other suites running on this machine.
let base: string;
let savedTmpdir: string | undefined;
beforeEach(() => {
  base = mkdtempSync("/tmp/sp-dirs-");
  chmodSync(base, 0o1777);
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = base;
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(base, { recursive: true, force: true });
});

/** A `snakepit-*` directory of ours, as a host that died would have left it. */
function plantOwn(name: string, mode = 0o700): string {
  const dir = join(base, name);
  mkdirSync(dir);
  chmodSync(dir, mode);
  writeFileSync(join(dir, "owner.json"), staleOwner(), { mode: 0o600 });
  writeFileSync(join(dir, "w1.sock"), "");
  return dir;
}

/** The same, planted by the other user, with a file of theirs in it. */
function plantForeign(name: string, mode: string): string {
  const dir = join(base, name);
  runAs(other, "sh", [
    "-c",
    'mkdir -m "$2" "$1" && printf %s "$3" > "$1/owner.json" && echo mine > "$1/precious"',
    "sh",
    dir,
    mode,
    staleOwner(),
  ]);
  return dir;
}

describe("removeStaleDirectories", () => {
  it("removes its own directories of dead hosts and keeps a live host's", async () => {
    const stale = plantOwn("snakepit-dead");
    const live = await createPrivateDirectory("live");
    try {
      expect(await removeStaleDirectories()).toEqual([stale]);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live.path)).toBe(true);
    } finally {
      await live.remove();
    }
  });

  it("leaves a directory of ours whose mode is not 0700", async () => {
    const loose = plantOwn("snakepit-loose", 0o755);
    expect(await removeStaleDirectories()).toEqual([]);
    expect(existsSync(join(loose, "owner.json"))).toBe(true);
  });

  it("does not read an owner.json that is a symlink", async () => {
    const dir = join(base, "snakepit-linked-owner");
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(base, "elsewhere.json"), staleOwner());
    symlinkSync(join(base, "elsewhere.json"), join(dir, "owner.json"));
    expect(await removeStaleDirectories()).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });

  withUser.each(["0700", "0777"])(
    "never touches a directory another user planted (mode %s)",
    async (mode) => {
      const planted = plantForeign("snakepit-planted", mode);
      expect(await removeStaleDirectories()).toEqual([]);
      expect(runAs(other, "cat", [join(planted, "precious")])).toBe("mine\n");
      expect(existsSync(join(planted, "owner.json"))).toBe(true);
    },
  );

  withUser("never follows a symlink planted in place of a directory", async () => {
    // The link points at a directory of ours that looks stale: following it would delete it.
    const target = plantOwn("victim");
    const link = join(base, "snakepit-link");
    runAs(other, "ln", ["-s", target, link]);
    expect(await removeStaleDirectories()).toEqual([]);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(existsSync(join(target, "w1.sock"))).toBe(true);
  });

  // As the other user (the host process of an unprivileged pool): a directory that root planted
  // used to fail the removal with EACCES, after deleting what it could inside. Now it is skipped,
  // a directory of its own that it cannot empty goes to onError, and the rest is removed.
  withUser("run as an unprivileged user, reports what it cannot remove and never throws", () => {
    const rootPlanted = plantOwn("snakepit-root", 0o777);
    const own = plantForeign("snakepit-own", "0700");
    const stuck = plantForeign("snakepit-stuck", "0700");
    mkdirSync(join(stuck, "sub"));
    writeFileSync(join(stuck, "sub", "file"), "root's");
    const dist = fileURLToPath(new URL("../dist/private-directory.js", import.meta.url));
    const script = `
      const { removeStaleDirectories } = await import(${JSON.stringify(dist)});
      const errors = [];
      const removed = await removeStaleDirectories({ onError: (path, e) => errors.push([path, e.code]) });
      console.log(JSON.stringify({ removed, errors }));`;
    const out = execFileSync(
      "setpriv",
      [`--reuid=${other.uid}`, `--regid=${other.gid}`, "--clear-groups", "--"].concat(
        process.execPath,
        "--input-type=module",
        "-e",
        script,
      ),
      { encoding: "utf8", env: { ...process.env, TMPDIR: base } },
    );
    expect(JSON.parse(out)).toEqual({ removed: [own], errors: [[stuck, "EACCES"]] });
    expect(existsSync(join(rootPlanted, "w1.sock"))).toBe(true);
  });
});
