import { chmodSync, chownSync } from "node:fs";
import { hostname } from "node:os";
import { isRunning, type SecondUser, secondUser } from "@snakepit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  killAll,
  makeDataDir,
  removeDir,
  startHost,
  startWorker,
} from "./host-fixture.test-helper.js";
import { createFileStore, createProcessRegistry, type RunDocument, runCleanup } from "./index.js";

let dir: string;
const pids: number[] = [];
beforeEach(async () => {
  dir = await makeDataDir();
});
afterEach(async () => {
  killAll(pids.splice(0));
  await removeDir(dir);
});

const goneHost = { pid: 2 ** 22 + 1, startTime: 1, hostname: hostname() }; // above pid_max

describe("a sweep never kills what a dead run's records cannot prove is its own", () => {
  it("a forged record naming a live host's run (ids are visible in ps) kills nothing", async () => {
    const live = await startHost(dir, 2);
    pids.push(live.pid, ...live.workers);
    const store = createFileStore(dir);
    const real = await store.readRun(live.runId);
    if (real === undefined) throw new Error("the live host has no record");
    // Same run id and worker identities (pid, start time: all public in /proc), a dead host.
    const forged: RunDocument = { ...real, host: goneHost };
    await store.writeRun(forged);

    const report = await runCleanup({ dataDir: dir, graceMs: 2000 });

    for (const pid of [live.pid, ...live.workers]) expect(isRunning(pid)).toBe(true);
    expect(report.killed).toEqual([]);
    expect(report.skipped).toEqual(
      expect.arrayContaining(
        live.workers.map((pid) => expect.objectContaining({ pid, reason: "host-mismatch" })),
      ),
    );
  });

  it("an unrelated process with `--snakepit-run-id <dead run>` in its argv is spared; the orphan is not", async () => {
    const dead = await startHost(dir, 1);
    pids.push(...dead.workers);
    const bystander = startWorker(["--snakepit-run-id", dead.runId]);
    pids.push(bystander.pid);
    dead.child.kill("SIGKILL");
    await dead.exited;

    const report = await runCleanup({ dataDir: dir, graceMs: 2000 });

    expect(report.killed.map((k) => k.pid)).toEqual(dead.workers);
    expect(isRunning(bystander.pid)).toBe(true);
    expect(report.skipped).toEqual([
      { runId: dead.runId, pid: bystander.pid, reason: "host-mismatch" },
    ]);
  });
});

describe("the file store refuses a data directory others can write", () => {
  it.each([
    ["every user", 0o777],
    ["its group", 0o770],
  ])("refuses one that %s can write, with REGISTRY_IO", async (_who, mode) => {
    chmodSync(dir, mode);
    const refused = expect.objectContaining({
      code: "REGISTRY_IO",
      details: expect.objectContaining({ path: dir, rule: "mode" }),
    });
    await expect(createFileStore(dir).listRuns()).rejects.toEqual(refused);
    await expect(createProcessRegistry({ dataDir: dir })).rejects.toEqual(refused);
    await expect(runCleanup({ dataDir: dir })).rejects.toEqual(refused);
  });

  const user = secondUser();
  if (typeof user === "string") console.log(`registry: skipping the second-user test: ${user}`);
  (typeof user === "string" ? it.skip : it)(
    "refuses one owned by another user, even with mode 0700",
    async () => {
      chownSync(dir, (user as SecondUser).uid, (user as SecondUser).gid);
      await expect(runCleanup({ dataDir: dir })).rejects.toEqual(
        expect.objectContaining({
          code: "REGISTRY_IO",
          details: expect.objectContaining({ rule: "owner", uid: (user as SecondUser).uid }),
        }),
      );
    },
  );

  it("creates a missing directory 0700 and accepts it", async () => {
    const registry = await createProcessRegistry({ dataDir: `${dir}/nested/state` });
    expect((await createFileStore(`${dir}/nested/state`).listRuns()).length).toBe(1);
    await registry.close();
  });
});
