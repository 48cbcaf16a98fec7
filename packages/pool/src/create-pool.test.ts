import { fileURLToPath } from "node:url";
import { isRunning } from "@snakepit/testing";
import { describe, expect, it } from "vitest";
import { createPool, type SnakepitError } from "./index.js";
import { echoAdapter, usePool as pool, rejection } from "./pool-test-helpers.test-helper.js";

const fixtures = fileURLToPath(new URL("../../python-bridge/test/fixtures/", import.meta.url));
const importErrorAdapter = `${fixtures}import_error_adapter.py`;
const setupErrorAdapter = `${fixtures}setup_error_adapter.py`;

describe("createPool", () => {
  it("starts real workers and runs Python tools concurrently", async () => {
    const p = pool({ adapter: echoAdapter, size: 2 });
    await p.ready();
    expect(p.stats().workers.idle).toBe(2);
    const [sum, echoed, bytes] = await Promise.all([
      p.execute("add", { a: 2, b: 3 }),
      p.execute("echo", { value: { nested: [1, "two", null] } }),
      p.execute("echo", { value: new Uint8Array([1, 2, 3]) }),
    ]);
    expect(sum).toBe(5);
    expect(echoed).toEqual({ nested: [1, "two", null] });
    expect(bytes).toEqual(Buffer.from([1, 2, 3]));
    const pids = new Set(
      await Promise.all([p.execute("pid"), p.execute("pid"), p.execute("pid"), p.execute("pid")]),
    );
    expect(pids.size).toBe(2);
    await p.close();
    expect(p.state).toBe("closed");
    for (const pid of pids) expect(isRunning(pid as number)).toBe(false);
  });

  it("queues calls beyond the pool's capacity in FIFO order", async () => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    await p.ready();
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        p.execute("echo", { value: i }).then((v) => order.push(v as number)),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it("turns a Python exception into TOOL_ERROR with type, message and traceback", async () => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    const err = await rejection(p.execute("fail", { message: "bad input" }));
    expect(err.code).toBe("TOOL_ERROR");
    expect(err.details).toMatchObject({ type: "ValueError", message: "bad input", tool: "fail" });
    expect(String(err.details.traceback)).toContain("ValueError: bad input");
    const withDetails = await rejection(p.execute("fail_with_details"));
    expect(withDetails.details.details).toEqual({ limit: 3 });
  });

  it.each([
    ["unknown tool", "no_such_tool", {}, "TOOL_NOT_FOUND"],
    ["missing argument", "add", { a: 1 }, "INVALID_ARGUMENTS"],
    ["unexpected argument", "add", { a: 1, b: 2, c: 3 }, "INVALID_ARGUMENTS"],
  ])("rejects a call with a %s as %s", async (_name, tool, args, code) => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    expect((await rejection(p.execute(tool, args))).code).toBe(code);
  });

  it.each([
    ["an adapter that fails to import", importErrorAdapter, "ADAPTER_LOAD_FAILED"],
    ["an adapter whose setup() raises", setupErrorAdapter, "ADAPTER_LOAD_FAILED"],
  ])("rejects ready() and waiting calls for %s", async (_name, adapter, code) => {
    const p = pool({ adapter, size: 2 });
    const waiting = rejection(p.execute("anything"));
    const err = await rejection(p.ready());
    expect(err.code).toBe(code);
    expect(String(err.details.traceback)).not.toBe("");
    expect((await waiting).code).toBe(code);
    expect((await rejection(p.execute("anything"))).code).toBe(code);
    expect(p.state).toBe("failed");
  });

  it("delivers a rejection that needs no wait on a later turn of the event loop (a tight retry loop cannot starve timers)", async () => {
    const p = pool({ adapter: echoAdapter, size: 1, pythonExecutable: "/nonexistent/python3" });
    await rejection(p.ready());
    let settled = false;
    const failed = p.execute("echo", { value: 1 }).catch((e: SnakepitError) => {
      settled = true;
      return e;
    });
    for (let i = 0; i < 100; i++) await Promise.resolve();
    expect(settled).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(await failed).toMatchObject({ code: "PYTHON_NOT_FOUND" });
  });

  it("rejects with PYTHON_NOT_FOUND when Python is missing", async () => {
    const p = pool({ adapter: echoAdapter, size: 1, pythonExecutable: "/nonexistent/python3" });
    const err = await rejection(p.ready());
    expect(err.code).toBe("PYTHON_NOT_FOUND");
    expect(err.message).toContain("pythonExecutable");
  });

  it.each([
    [{ adapter: "" }, "adapter"],
    [{ adapter: echoAdapter, size: 0 }, "size"],
    [{ adapter: echoAdapter, size: 1.5 }, "size"],
    [{ adapter: echoAdapter, timeoutMs: -1 }, "timeoutMs"],
    [{ adapter: echoAdapter, sise: 2 }, "sise"],
  ])("rejects invalid options %j naming `%s`", (options, name) => {
    try {
      createPool(options as never);
      expect.unreachable();
    } catch (err) {
      expect((err as SnakepitError).code).toBe("INVALID_OPTIONS");
      expect((err as SnakepitError).message).toContain(`\`${name}\``);
    }
  });

  it.each([
    [{ timeoutMs: -5 }, "timeoutMs"],
    [{ timeoutMS: 100 }, "timeoutMS"],
  ])(
    "rejects a call with invalid options %j as INVALID_OPTIONS naming `%s`",
    async (options, name) => {
      const p = pool({ adapter: echoAdapter, size: 1 });
      const err = await rejection(p.execute("echo", { value: 1 }, options as never));
      expect(err.code).toBe("INVALID_OPTIONS");
      expect(err.message).toContain(`\`${name}\``);
    },
  );

  it("rejects `size: NaN` describing the value as NaN", () => {
    expect(() => createPool({ adapter: echoAdapter, size: Number.NaN })).toThrow(
      "got `NaN` (number)",
    );
  });

  it("fails the running call with WORKER_CRASHED and replaces the worker", async () => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    await p.ready();
    const before = await p.execute<number>("pid");
    const err = await rejection(p.execute("crash", { code: 7 }));
    expect(err.code).toBe("WORKER_CRASHED");
    expect(err.details).toMatchObject({ exitCode: 7 });
    const after = await p.execute<number>("pid");
    expect(after).not.toBe(before);
    expect(isRunning(before)).toBe(false);
    expect(p.stats().restarts).toBe(1);
  });

  it("times out a call from dispatch with CALL_TIMEOUT", async () => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    await p.ready();
    const err = await rejection(p.execute("sleep", { seconds: 5 }, { timeoutMs: 200 }));
    expect(err.code).toBe("CALL_TIMEOUT");
    expect(await p.execute("add", { a: 1, b: 1 })).toBe(2);
  });

  it("aborts a queued call and a running call", async () => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    await p.ready();
    const running = new AbortController();
    const queued = new AbortController();
    const first = p.execute("sleep", { seconds: 5 }, { signal: running.signal });
    const second = p.execute("echo", { value: 1 }, { signal: queued.signal });
    queued.abort();
    expect((await rejection(second)).code).toBe("ABORTED");
    running.abort();
    expect((await rejection(first)).code).toBe("ABORTED");
  });

  it("[Symbol.asyncDispose] closes the pool (await using)", async () => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    await p.ready();
    const [pid] = p.stats().pids as [number];
    await p[Symbol.asyncDispose]();
    expect(p.state).toBe("closed");
    expect(isRunning(pid)).toBe(false);
  });

  it("close({ signal }): aborting ends the drain — running calls fail with WORKER_STOPPED, the pool closes", async () => {
    // No pipeline window, so the second call waits in the pool's queue.
    const p = pool({ adapter: echoAdapter, size: 1, pipelineDepth: 1 });
    await p.ready();
    const running = rejection(p.execute("sleep", { seconds: 30 }));
    const queued = rejection(p.execute("echo", { value: 1 }));
    const controller = new AbortController();
    const closed = p.close({ signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await closed;
    expect(p.state).toBe("closed");
    expect((await running).code).toBe("WORKER_STOPPED");
    expect((await queued).code).toBe("POOL_CLOSED");
  });

  it("a worker's whole pipeline window (64 with frames) is in flight at once; every call answers, in order", async () => {
    const depth = process.env.SNAKEPIT_TRANSPORT === "grpc" ? 4 : 64;
    const p = pool({ adapter: echoAdapter, size: 1, pipelineDepth: depth });
    await p.ready();
    const order: number[] = [];
    const calls = Array.from({ length: 2 * depth }, (_, i) =>
      p.execute("echo", { value: i }).then((v) => order.push(v as number)),
    );
    expect(p.stats().inFlight).toBe(depth);
    await Promise.all(calls);
    if (depth === 64) expect(order).toEqual(Array.from({ length: 128 }, (_, i) => i));
    expect(p.stats().restarts).toBe(0);
  });

  it("a worker whose calls take milliseconds holds one at a time; quick calls open its window again", async () => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    await p.ready();
    await p.execute("sleep", { seconds: 0.05 });
    const slow = Array.from({ length: 4 }, () => p.execute("sleep", { seconds: 0.02 }));
    expect(p.stats()).toMatchObject({ inFlight: 1, queueDepth: 3 });
    await Promise.all(slow);
    // Quick calls, one at a time, bring the average running time back under 1 ms.
    for (let i = 0; i < 100; i++) await p.execute("echo", { value: i });
    const quick = Array.from({ length: 8 }, (_, i) => p.execute("echo", { value: i }));
    const depth = process.env.SNAKEPIT_TRANSPORT === "grpc" ? 1 : 8;
    expect(p.stats()).toMatchObject({ inFlight: depth, queueDepth: 8 - depth });
    expect(await Promise.all(quick)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("refuses calls after close() and closes idempotently", async () => {
    const p = pool({ adapter: echoAdapter, size: 1 });
    await p.ready();
    const inFlight = p.execute("sleep", { seconds: 0.3 });
    const closed = p.close();
    expect((await rejection(p.execute("echo", { value: 1 }))).code).toBe("POOL_CLOSED");
    expect(await inFlight).toBe(0.3);
    await Promise.all([closed, p.close(), p.destroy()]);
  });
});
