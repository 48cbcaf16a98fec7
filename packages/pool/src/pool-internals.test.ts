import { describe, expect, it } from "vitest";
import { workerProcessesOf } from "./internal.js";
import { echoAdapter, usePool as pool } from "./pool-test-helpers.test-helper.js";

describe("workerProcessesOf (@snakepit/pool/internal)", () => {
  it("lists the serving workers' processes, whose clients reach the very workers the pool calls", async () => {
    const p = pool({ adapter: echoAdapter, size: 2 });
    expect(workerProcessesOf(p)).toEqual([]);
    await p.ready();
    const procs = workerProcessesOf(p);
    const pids = p.stats().workerDetails.map((w) => w.pid);
    expect(procs.map((proc) => proc.pid).sort()).toEqual([...pids].sort());
    for (const proc of procs) {
      const { value } = await proc.client.execute("pid", undefined);
      expect(value).toBe(proc.pid);
    }
    await p.close();
    expect(workerProcessesOf(p)).toEqual([]);
  });

  it("refuses anything that is not a pool", () => {
    expect(() => workerProcessesOf({} as never)).toThrow(TypeError);
  });
});
