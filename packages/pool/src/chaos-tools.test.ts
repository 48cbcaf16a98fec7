// Chaos from inside: tools that raise what Python does not treat as an error, exit the process,
// crash it, return what JSON cannot carry, or exhaust their memory limit. Each ends its call
// with a coded error, and the pool keeps serving. Runs in the pool's start mode
// (`SNAKEPIT_START_MODE`: `pnpm test` runs it in spawn mode and again in fork mode). Bounded:
// every call has a deadline, so a regression fails with CALL_TIMEOUT instead of hanging.
import { fileURLToPath } from "node:url";
import { isRunning, waitFor } from "@snakepit/testing";
import { describe, expect, it } from "vitest";
import { rejection, usePool } from "./pool-test-helpers.test-helper.js";

const hostileAdapter = `${fileURLToPath(
  new URL("../../python-bridge/test/fixtures/hostile_adapter.py", import.meta.url),
)}:HostileAdapter`;
const deadline = { timeoutMs: 15_000 };

async function drain(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const chunks: unknown[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe("a tool raising a BaseException that is not an Exception", () => {
  const kinds = [
    ["exit", "SystemExit", "3"],
    ["keyboard", "KeyboardInterrupt", "interrupted by the tool"],
    ["generator_exit", "GeneratorExit", "generator exit raised by the tool"],
    ["custom", "hostile_adapter.CustomBaseException", "custom base exception"],
  ] as const;
  const cases = kinds.flatMap(([kind, type, message]) =>
    ["raise_base", "async_raise_base", "stream_raise_base", "async_stream_raise_base"].map(
      (tool) => ({ tool, kind, type, message }),
    ),
  );

  it("fails its call with TOOL_ERROR and the Python type; the same worker serves on", async () => {
    const pool = usePool({ adapter: hostileAdapter, size: 1 });
    await pool.ready();
    const [pid] = pool.stats().pids as [number];
    for (const { tool, kind, type, message } of cases) {
      const call = tool.includes("stream")
        ? drain(pool.executeStream(tool, { kind }, deadline))
        : pool.execute(tool, { kind }, deadline);
      const err = await rejection(call);
      expect({ tool, kind, code: err.code, type: (err.details as { type: string }).type }).toEqual({
        tool,
        kind,
        code: "TOOL_ERROR",
        type,
      });
      expect(err.message).toContain(message);
      expect(pool.stats().inFlight).toBe(0);
      expect(await pool.execute("pid", {}, deadline)).toBe(pid);
    }
    expect(pool.stats().restarts).toBe(0);
  });

  it("raised by a callback on the worker's event loop, does not stop the loop", async () => {
    const pool = usePool({ adapter: hostileAdapter, size: 1 });
    for (const kind of ["exit", "keyboard", "custom"]) {
      expect(await pool.execute("stop_the_loop", { kind }, deadline)).toBe("scheduled");
      expect(await pool.execute("async_ok", { value: kind }, deadline)).toBe(kind);
    }
  });
});

describe("a tool returning NaN or Infinity", () => {
  it.each([
    ["nan", "nan at $"],
    ["-inf", "-inf at $"],
    ["nested", "nan at $.stats.ratios[1]"],
  ])("%s: TOOL_ERROR naming the tool, the value and where it is", async (kind, where) => {
    const pool = usePool({ adapter: hostileAdapter, size: 1 });
    const err = await rejection(pool.execute("not_json", { kind }, deadline));
    expect(err.code).toBe("TOOL_ERROR");
    expect(err.message).toContain("not_json");
    expect(err.message).toContain(where);
  });

  it("in a stream: the chunks before it arrive, then TOOL_ERROR", async () => {
    const pool = usePool({ adapter: hostileAdapter, size: 1 });
    const chunks: unknown[] = [];
    const consume = async () => {
      for await (const chunk of pool.executeStream("stream_not_json", {}, deadline))
        chunks.push(chunk);
    };
    const err = await rejection(consume());
    expect(chunks).toEqual([1]);
    expect(err.code).toBe("TOOL_ERROR");
    expect(err.message).toContain("inf at $");
  });
});

describe("a tool that ends its worker process", () => {
  it.each([
    ["os._exit(7)", "exit_hard"],
    ["a segfault (ctypes reads address 0)", "segfault"],
  ])("%s: WORKER_CRASHED at once, the worker is replaced", async (_name, tool) => {
    const pool = usePool({ adapter: hostileAdapter, size: 1 });
    await pool.ready();
    const [pid] = pool.stats().pids as [number];
    const err = await rejection(pool.execute(tool, {}, deadline));
    expect(err.code).toBe("WORKER_CRASHED");
    const next = await pool.execute("pid", {}, deadline);
    expect(next).not.toBe(pid);
    await waitFor(() => !isRunning(pid), { message: "the crashed worker to be gone" });
    expect(pool.stats().restartsByReason.crashed).toBe(1);
  });
});

describe("a tool that exhausts its worker's memory limit (RLIMIT_AS set in setup())", () => {
  it("fails its call with a coded error (MemoryError: TOOL_ERROR, or WORKER_CRASHED) and the pool serves on", async () => {
    const pool = usePool({
      adapter: hostileAdapter,
      size: 1,
      env: { SNAKEPIT_TEST_MEMORY_LIMIT_MIB: "1024" },
    });
    await pool.ready();
    const err = await rejection(pool.execute("exhaust_memory", { chunk_mib: 16 }, deadline));
    if (err.code === "TOOL_ERROR")
      expect((err.details as { type: string }).type).toBe("MemoryError");
    else expect(err.code).toBe("WORKER_CRASHED");
    expect(await pool.execute("ok", { value: "after" }, deadline)).toBe("after");
  });
});
