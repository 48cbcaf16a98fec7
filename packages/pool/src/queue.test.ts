import { describe, expect, it } from "vitest";
import {
  echoAdapter,
  moduleToolsAdapter,
  rejection,
  usePool,
} from "./pool-test-helpers.test-helper.js";

describe("the queue", () => {
  it("fails fast with QUEUE_FULL when maxQueue calls already wait", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1, maxQueue: 2, pipelineDepth: 1 });
    await pool.ready();
    const running = pool.execute("sleep", { seconds: 0.5 });
    const queued = [pool.execute("echo", { value: 1 }), pool.execute("echo", { value: 2 })];
    let runningDone = false;
    void running.then(() => {
      runningDone = true;
    });
    // Fast: it fails before the call ahead of it in the worker has finished.
    expect((await rejection(pool.execute("echo", { value: 3 }))).code).toBe("QUEUE_FULL");
    expect(runningDone).toBe(false);
    expect(await Promise.all([running, ...queued])).toEqual([0.5, 1, 2]);
  });

  it("fails a call that waited longer than queueTimeoutMs with QUEUE_TIMEOUT, and serves the rest", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1, queueTimeoutMs: 200, pipelineDepth: 1 });
    await pool.ready();
    const running = pool.execute("sleep", { seconds: 1 });
    const err = await rejection(pool.execute("echo", { value: 1 }));
    expect(err.code).toBe("QUEUE_TIMEOUT");
    expect(await running).toBe(1);
    expect(await pool.execute("echo", { value: 2 })).toBe(2);
    expect(pool.stats().queueDepth).toBe(0);
  });

  it("reports wait and run time summaries", async () => {
    // No pipeline window: the second call waits in the queue, not in the worker's window.
    const pool = usePool({ adapter: echoAdapter, size: 1, pipelineDepth: 1 });
    await pool.ready();
    await Promise.all([
      pool.execute("sleep", { seconds: 0.2 }),
      pool.execute("sleep", { seconds: 0.2 }),
    ]);
    const stats = pool.stats();
    expect(stats.runMs.count).toBe(2);
    expect(stats.runMs.p50).toBeGreaterThanOrEqual(190);
    expect(stats.waitMs.max).toBeGreaterThanOrEqual(150);
  });
});

describe("profiles", () => {
  it("the thread profile serves threadsPerWorker calls at once in one Python process", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1, profile: "thread", threadsPerWorker: 4 });
    await pool.ready();
    const started = performance.now();
    await Promise.all(Array.from({ length: 4 }, () => pool.execute("sleep", { seconds: 0.5 })));
    expect(performance.now() - started).toBeLessThan(1400);
    expect(
      new Set(await Promise.all(Array.from({ length: 8 }, () => pool.execute("pid")))).size,
    ).toBe(1);
  });

  it("minReady lets ready() resolve before every worker is up", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 3, minReady: 1 });
    await pool.ready();
    const { idle, busy } = pool.stats().workers;
    expect(idle + busy).toBeGreaterThanOrEqual(1);
    expect(await pool.execute("add", { a: 1, b: 1 })).toBe(2);
  });
});

describe("pools", () => {
  it("two named pools with their own adapters run side by side", async () => {
    const a = usePool({ adapter: echoAdapter, size: 1, name: "echo" });
    const b = usePool({ adapter: moduleToolsAdapter, size: 1, name: "greeter" });
    await Promise.all([a.ready(), b.ready()]);
    const [sum, greeting] = await Promise.all([
      a.execute("add", { a: 2, b: 2 }),
      b.execute("greet", { name: "pit" }),
    ]);
    expect(sum).toBe(4);
    expect(greeting).toContain("pit");
    expect((await rejection(b.execute("add", { a: 1, b: 1 }))).code).toBe("TOOL_NOT_FOUND");
    expect(a.stats().pids).not.toEqual(b.stats().pids);
  });
});
