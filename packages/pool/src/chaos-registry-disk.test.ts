// Chaos: the registry's data directory is read-only, or its disk fills up while the pool runs.
// Root ignores permission bits, so both are real file systems: a small tmpfs, remounted
// read-only or filled. Skipped, with the reason printed, where `mount` is not allowed.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "@snakepit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "./logger.js";
import { echoAdapter, rejection, usePool } from "./pool-test-helpers.test-helper.js";

function mountSkipReason(): string | undefined {
  if (process.platform !== "linux") return `needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return "needs root to mount a tmpfs";
  const probe = mkdtempSync(join(tmpdir(), "mount-probe-"));
  try {
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "none", probe]);
    if (mounted.status !== 0)
      return `mount is not allowed here: ${mounted.stderr.toString().trim()}`;
    spawnSync("umount", [probe]);
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const skip = mountSkipReason();
if (skip !== undefined) console.log(`chaos-registry-disk: skipped: ${skip}`);

let mountPoint: string;
let mounted = false;
beforeEach(() => {
  mountPoint = mkdtempSync(join(tmpdir(), "registry-disk-"));
});
afterEach(() => {
  if (mounted) execFileSync("umount", ["-l", mountPoint]);
  mounted = false;
  rmSync(mountPoint, { recursive: true, force: true });
});

/** A 64 KiB tmpfs at `mountPoint`, mode 0700 (the file store refuses anything looser). */
function mountTmpfs(): void {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "none", mountPoint]);
  mounted = true;
}

describe.skipIf(skip !== undefined)("chaos: the registry's disk", () => {
  it("read-only: the pool fails to start with REGISTRY_IO, at once, and leaves no process", async () => {
    mountTmpfs();
    execFileSync("mount", ["-o", "remount,ro", mountPoint]);
    const pool = usePool({ adapter: echoAdapter, size: 1, registry: { dataDir: mountPoint } });
    const error = await rejection(pool.ready());
    expect(error.code).toBe("REGISTRY_IO");
    expect(error.message).toContain(mountPoint);
  });

  it("full while running: workers keep serving, a worker that cannot be recorded is logged and retried, and the pool recovers once there is room", async () => {
    mountTmpfs();
    const warnings: { err?: { code?: string }; msg?: string }[] = [];
    const logger: Logger = {
      child: () => logger,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (obj, msg) => warnings.push({ ...(obj as { err?: { code?: string } }), msg }),
      error: (obj, msg) => warnings.push({ ...(obj as { err?: { code?: string } }), msg }),
    };
    const pool = usePool({
      adapter: echoAdapter,
      size: 2,
      registry: { dataDir: mountPoint },
      timeoutMs: 15_000,
      logger,
    });
    await pool.ready();
    const before = [...pool.stats().pids];
    // Fill the disk: every record write now fails with ENOSPC.
    const filler = join(mountPoint, "filler");
    spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k", "count=64"]);
    expect(() => writeFileSync(join(mountPoint, "probe"), Buffer.alloc(8192))).toThrow(/ENOSPC/);

    // A recycle cannot record a successor: logged, and the worker keeps serving.
    const [first] = pool.stats().workerDetails;
    await pool.recycle(first?.workerId as string);
    expect(pool.stats().pids).toEqual(before);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ err: expect.objectContaining({ code: "REGISTRY_IO" }) }),
      ]),
    );

    // A worker dies: its replacement cannot be recorded either; the other worker serves meanwhile.
    process.kill(before[0] as number, "SIGKILL");
    await waitFor(() => !pool.stats().pids.includes(before[0] as number), {
      timeoutMs: 10_000,
      message: "the pool to see its worker die",
    });
    const values = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pool.execute("echo", { value: i })),
    );
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => i));

    // Room again: the replacement starts (restart backoff permitting) and the pool is whole.
    rmSync(filler);
    const deadline = Date.now() + 45_000;
    while (pool.stats().pids.length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pool.stats().pids).toHaveLength(2);
    expect(pool.stats().pids).not.toContain(before[0]);
    expect(await pool.execute("echo", { value: "recovered" })).toBe("recovered");
    await pool.close();
  }, 90_000);
});
