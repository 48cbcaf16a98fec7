import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isSnakepitError } from "@snakepit/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDataDir, removeDir } from "./host-fixture.test-helper.js";
import { createFileStore, createProcessRegistry } from "./index.js";
import { runIdArgs, runIdMarker } from "./run-id.js";

let dir: string;
beforeEach(async () => {
  dir = await makeDataDir();
});
afterEach(() => removeDir(dir));

describe("createProcessRegistry", () => {
  it("makes each step durable before it resolves: reserved, active, removed", async () => {
    const dataDir = join(dir, "state");
    const registry = await createProcessRegistry({ dataDir, runId: "abc1234" });
    // A second store reading from disk sees exactly what a crashed host would leave behind.
    const disk = createFileStore(dataDir);
    const onDisk = async () => (await disk.readRun("abc1234"))?.workers ?? {};
    expect(await disk.readRun("abc1234")).toMatchObject({
      runId: "abc1234",
      host: { pid: process.pid, hostname: registry.hostIdentity.hostname },
      workers: {},
    });

    await registry.reserve("w1", { poolName: "default", command: "python worker.py" });
    expect((await onDisk()).w1).toMatchObject({ status: "reserved", poolName: "default" });
    await registry.activate("w1", { pid: 4242, pgid: 4242, startTime: 99 });
    expect((await onDisk()).w1).toMatchObject({ status: "active", pid: 4242, startTime: 99 });
    expect(await registry.records()).toEqual([(await onDisk()).w1]);
    await registry.remove("w1");
    expect(await onDisk()).toEqual({});

    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, "run-abc1234.json"))).mode & 0o777).toBe(0o600);
    await registry.close();
    expect(await disk.listRuns()).toEqual([]);
  });

  it("keeps concurrent updates: one write at a time, none lost", async () => {
    const registry = await createProcessRegistry({ dataDir: dir });
    const ids = Array.from({ length: 8 }, (_, i) => `w${i}`);
    await Promise.all(ids.map((id) => registry.reserve(id)));
    await Promise.all(
      ids.map((id, i) => registry.activate(id, { pid: i + 1, pgid: i + 1, startTime: 1 })),
    );
    const doc = await createFileStore(dir).readRun(registry.runId);
    expect(Object.values(doc?.workers ?? {}).map((w) => w.status)).toEqual(ids.map(() => "active"));
    await Promise.all(ids.map((id) => registry.remove(id)));
    await registry.close();
  });

  it("keeps the run document on close while workers are still on record", async () => {
    const registry = await createProcessRegistry({ dataDir: dir });
    await registry.reserve("w1");
    await registry.close();
    await registry.close(); // idempotent
    expect(await createFileStore(dir).listRuns()).toEqual([registry.runId]);
    const err = await registry.reserve("w2").catch((e: unknown) => e);
    expect(isSnakepitError(err, "REGISTRY_CLOSED")).toBe(true);
  });

  it("gives workers the run-id marker", async () => {
    const registry = await createProcessRegistry({ dataDir: dir, runId: "k3x9a2p" });
    expect(registry.markerArgs).toEqual(["--snakepit-run-id", "k3x9a2p"]);
    expect(runIdArgs("k3x9a2p")).toEqual([...registry.markerArgs]);
    expect(runIdMarker("k3x9a2p")).toBe("--snakepit-run-id k3x9a2p");
    const generated = await createProcessRegistry({ dataDir: dir });
    expect(generated.runId).toMatch(/^[0-9a-z]{7}$/);
    await registry.close();
    await generated.close();
  });

  it.each([
    [{ runId: "../x" }, "Expected `runId` to be 4 to 32 characters of [0-9a-z]"],
    [{ dataDir: "" }, "Expected `dataDir` to be a non-empty string"],
    [{ datadir: "x" }, "Unknown option `datadir`"],
  ])("validates options: %o", async (options, message) => {
    const err = await createProcessRegistry(options as never).catch((e: unknown) => e);
    expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
    expect((err as Error).message).toContain(message);
  });

  it("rejects misuse with INVALID_OPTIONS naming the option", async () => {
    const registry = await createProcessRegistry({ dataDir: dir });
    await registry.reserve("w1");
    for (const call of [
      () => registry.reserve("w1"),
      () => registry.activate("nope", { pid: 1, pgid: 1, startTime: 1 }),
      () => registry.activate("w1", { pid: -1, pgid: 1, startTime: 1 }),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
    }
    await registry.remove("w1");
    await registry.close();
  });

  it("reports an unwritable data directory as REGISTRY_IO", async () => {
    // A regular file where a parent directory should be.
    await writeFile(join(dir, "file"), "");
    const dataDir = join(dir, "file", "state");
    const err = await createProcessRegistry({ dataDir }).catch((e: unknown) => e);
    expect(isSnakepitError(err, "REGISTRY_IO")).toBe(true);
  });
});
