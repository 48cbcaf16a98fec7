// Chaos: another local user plants a /tmp/snakepit-* directory that looks like a dead host's.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SecondUser, secondUser } from "@snakepit/testing";
import { expect, it } from "vitest";
import { echoAdapter, usePool } from "./pool-test-helpers.test-helper.js";

const user = secondUser();
if (typeof user === "string") console.log(`chaos-neighbours: skipped: ${user}`);

(typeof user === "string" ? it.skip : it)(
  "chaos: a pool starts and serves beside a foreign snakepit-* directory, and leaves it alone",
  async () => {
    const other = user as SecondUser;
    const deadPid = spawnSync("true").pid as number;
    // Where the pool's own socket directories go (it falls back to /tmp for long TMPDIRs).
    const base = tmpdir().length > 60 ? "/tmp" : tmpdir();
    const planted = join(base, `snakepit-planted-${process.pid}`);
    // The test run's TMPDIR is root's and private: plant as root, then hand it all to the other
    // user, as if they had made it.
    mkdirSync(planted);
    chmodSync(planted, 0o777);
    writeFileSync(join(planted, "owner.json"), JSON.stringify({ pid: deadPid, startTime: 1 }));
    writeFileSync(join(planted, "precious"), "theirs\n");
    for (const path of [planted, join(planted, "owner.json"), join(planted, "precious")])
      chownSync(path, other.uid, other.gid);
    try {
      const pool = usePool({ adapter: echoAdapter, size: 1, registry: false });
      await pool.ready();
      expect(await pool.execute("echo", { value: "still serving" })).toBe("still serving");
      await pool.close();
      expect(existsSync(join(planted, "precious"))).toBe(true);
    } finally {
      rmSync(planted, { recursive: true, force: true });
    }
  },
);
