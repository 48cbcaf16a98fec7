import { execFile } from "node:child_process";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readProcessIdentity } from "@snakepit/process-killer";
import { isRunning } from "@snakepit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  killAll,
  makeDataDir,
  removeDir,
  startHost,
  startWorker,
} from "./host-fixture.test-helper.js";
import {
  createFileStore,
  createProcessRegistry,
  formatCleanupReport,
  HOST_ENV,
  hostMarkerValue,
  type RunDocument,
  runCleanup,
  type SweepReport,
} from "./index.js";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/", import.meta.url));

let dir: string;
const pids: number[] = [];
beforeEach(async () => {
  dir = await makeDataDir();
});
afterEach(async () => {
  killAll(pids.splice(0));
  await removeDir(dir);
});

const sorted = (list: readonly number[]) => [...list].sort((a, b) => a - b);

describe("sweepOrphans", () => {
  it("kills exactly the orphans of a SIGKILLed host; spares a live host's workers and a reused pid", async () => {
    const dead = await startHost(dir, 2);
    const live = await startHost(dir, 1);
    pids.push(dead.pid, live.pid, ...dead.workers, ...live.workers);
    // An unrelated process whose pid a stale record names, with another start time: a pid the
    // OS reused after the run that recorded it died (its host pid, too, has another start time).
    const unrelated = startWorker();
    pids.push(unrelated.pid);
    const real = readProcessIdentity(unrelated.pid);
    if (real === undefined) throw new Error("no identity");
    const stale: RunDocument = {
      version: 1,
      runId: "stale01",
      host: { pid: unrelated.pid, startTime: real.startTime - 7, hostname: hostname() },
      createdAt: new Date().toISOString(),
      workers: {
        w0: {
          workerId: "w0",
          status: "active",
          pid: unrelated.pid,
          pgid: real.pgid,
          startTime: real.startTime - 1,
          reservedAt: new Date().toISOString(),
          activatedAt: new Date().toISOString(),
        },
      },
    };
    await createFileStore(dir).writeRun(stale);

    dead.child.kill("SIGKILL");
    await dead.exited;
    for (const pid of dead.workers) expect(isRunning(pid)).toBe(true); // orphaned, not dead

    const registry = await createProcessRegistry({ dataDir: dir });
    const report = await registry.sweepOrphans({ graceMs: 2000 });

    expect(sorted(report.killed.map((k) => k.pid))).toEqual(sorted(dead.workers));
    expect(report.killed.every((k) => k.runId === dead.runId && k.reason === "signaled")).toBe(
      true,
    );
    expect(report.orphansFound.map((o) => o.source)).toEqual(["record", "record"]);
    for (const pid of dead.workers) expect(isRunning(pid)).toBe(false);
    for (const pid of [live.pid, ...live.workers, unrelated.pid]) expect(isRunning(pid)).toBe(true);
    expect(report.skipped).toEqual(
      expect.arrayContaining([
        { runId: live.runId, pid: live.pid, reason: "alive-host" },
        { runId: "stale01", pid: unrelated.pid, workerId: "w0", reason: "identity-mismatch" },
      ]),
    );
    expect(report).toMatchObject({ runsFound: 3, recordsRemoved: 3, failed: [] });
    expect([...report.runsSwept].sort()).toEqual([dead.runId, "stale01"].sort());
    expect((await createFileStore(dir).listRuns()).sort()).toEqual(
      [live.runId, registry.runId].sort(),
    );

    // Once the second host dies too, the next sweep takes its worker.
    live.child.kill("SIGKILL");
    await live.exited;
    const second = await registry.sweepOrphans({ graceMs: 2000 });
    expect(second.killed.map((k) => k.pid)).toEqual(live.workers);
    await registry.close();
    expect(await createFileStore(dir).listRuns()).toEqual([]);
  });

  it("cleans up after a host killed between reserve and activate (found by run-id marker)", async () => {
    const host = await startHost(dir, 1, "crash-before-activate");
    pids.push(...host.workers);
    await host.exited;
    const doc = await createFileStore(dir).readRun(host.runId);
    expect(Object.values(doc?.workers ?? {}).map((w) => w.status)).toEqual([
      "reserved",
      "reserved",
    ]);

    const preview = await runCleanup({ dataDir: dir, dryRun: true });
    expect(preview.orphansFound).toEqual([
      { runId: host.runId, pid: host.workers[0], source: "marker" },
    ]);
    expect(preview.killed).toEqual([]);
    expect(formatCleanupReport(preview)).toContain(
      `orphan pid ${host.workers[0]} (run ${host.runId}): would be killed`,
    );
    for (const pid of host.workers) expect(isRunning(pid)).toBe(true);

    const report = await runCleanup({ dataDir: dir, graceMs: 2000 });
    expect(report.killed.map((k) => [k.pid, k.reason])).toEqual([[host.workers[0], "signaled"]]);
    expect(report).toMatchObject({ runsSwept: [host.runId], recordsRemoved: 2, dryRun: false });
    expect(formatCleanupReport(report)).toMatch(/killed \(signaled, \d+ ms\)/);
    for (const pid of host.workers) expect(isRunning(pid)).toBe(false);
    expect(await createFileStore(dir).listRuns()).toEqual([]);
  });

  it("two sweeps at once neither double-kill nor throw", async () => {
    const host = await startHost(dir, 2);
    pids.push(...host.workers);
    host.child.kill("SIGKILL");
    await host.exited;
    const [a, b] = await Promise.all([
      runCleanup({ dataDir: dir, graceMs: 2000 }),
      runCleanup({ dataDir: dir, graceMs: 2000 }),
    ]);
    const killed = [...a.killed, ...b.killed].map((k) => k.pid);
    expect(sorted(killed)).toEqual(sorted(host.workers));
    expect([...a.failed, ...b.failed]).toEqual([]);
    expect(a.runsSwept.length + b.runsSwept.length).toBe(1);
    for (const pid of host.workers) expect(isRunning(pid)).toBe(false);
  });

  it("two sweeping processes at once neither double-kill nor fail", async () => {
    const host = await startHost(dir, 3);
    pids.push(...host.workers);
    host.child.kill("SIGKILL");
    await host.exited;
    // On failure, say how the sweeper ended (exit code or signal, its output): that is how an exit
    // 13 (the kill's waits did not hold the event loop) was found.
    const sweeper = () =>
      promisify(execFile)(process.execPath, [`${FIXTURES}cleanup.mjs`, dir], {
        timeout: 30_000,
      }).catch((err: { code?: unknown; signal?: unknown; stdout?: unknown; stderr?: unknown }) => {
        throw new Error(
          `sweeper failed: code ${String(err.code)}, signal ${String(err.signal)}, stdout ${JSON.stringify(err.stdout)}, stderr ${JSON.stringify(err.stderr)}`,
          { cause: err },
        );
      });
    const reports = (await Promise.all([sweeper(), sweeper()])).map(
      ({ stdout }) => JSON.parse(stdout) as SweepReport,
    );
    const killed = reports.flatMap((r) => r.killed.map((k) => k.pid));
    expect(sorted(killed)).toEqual(sorted(host.workers));
    expect(reports.flatMap((r) => r.failed)).toEqual([]);
    for (const pid of host.workers) expect(isRunning(pid)).toBe(false);
    expect(await createFileStore(dir).listRuns()).toEqual([]);
  });

  it("takes over the sweep lock of a dead sweeper, and respects a live one", async () => {
    const goneHost = { pid: 2 ** 22 + 1, startTime: 1, hostname: hostname() }; // above pid_max
    const worker = startWorker(["--snakepit-run-id", "lockrun1"], {
      [HOST_ENV]: hostMarkerValue("lockrun1", goneHost),
    });
    pids.push(worker.pid);
    const store = createFileStore(dir);
    await store.writeRun({
      version: 1,
      runId: "lockrun1",
      host: goneHost,
      createdAt: new Date().toISOString(),
      workers: {},
    });
    const self = readProcessIdentity(process.pid);
    const live = await store.lockRun("lockrun1", {
      pid: process.pid,
      startTime: self?.startTime ?? 0,
      token: "live",
    });
    expect(live.acquired).toBe(true);
    const blocked = await runCleanup({ dataDir: dir, graceMs: 2000 });
    expect(blocked.skipped).toEqual([{ runId: "lockrun1", pid: process.pid, reason: "locked" }]);
    expect(isRunning(worker.pid)).toBe(true);
    if (live.acquired) await live.release();

    // A lock left by a sweeper that died is stale: taken over.
    const orphanedLock = await store.lockRun("lockrun1", { ...goneHost, token: "dead" });
    expect(orphanedLock.acquired).toBe(true);
    const report = await runCleanup({ dataDir: dir, graceMs: 2000 });
    expect(report.killed.map((k) => k.pid)).toEqual([worker.pid]);
    expect(report.runsSwept).toEqual(["lockrun1"]);
  });
});
