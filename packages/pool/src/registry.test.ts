import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProcessRegistry } from "@snakepit/registry";
import { afterEach, describe, expect, it } from "vitest";
import { echoAdapter, usePool } from "./pool-test-helpers.test-helper.js";

let dataDir: string | undefined;
afterEach(() => {
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

describe("the pool and its registry", () => {
  it("records every worker while it runs, and close() leaves no record and no process", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "registry-"));
    const pool = usePool({ adapter: echoAdapter, size: 2, registry: { dataDir } });
    await pool.ready();
    const reader = await createProcessRegistry({ dataDir });
    const runs = readdirSync(dataDir).filter(
      (f) => f.startsWith("run-") && f !== `run-${reader.runId}.json`,
    );
    expect(runs).toHaveLength(1);
    const recorded = JSON.parse(readFileSync(join(dataDir, runs[0] as string), "utf8")) as {
      workers: Record<string, { pid?: number; status: string }>;
    };
    const pids = Object.values(recorded.workers).map((w) => w.pid);
    expect(pids.sort()).toEqual([...pool.stats().pids].sort());
    expect(Object.values(recorded.workers).every((w) => w.status === "active")).toBe(true);
    await pool.close();
    await reader.close();
    expect(readdirSync(dataDir).filter((f) => f.startsWith("run-"))).toEqual([]);
  });
});
