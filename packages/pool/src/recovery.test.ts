import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { subscribe } from "@snakepit/telemetry";
import { isRunning, waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { Logger } from "./logger.js";
import { echoAdapter, rejection, usePool } from "./pool-test-helpers.test-helper.js";

describe("deadlines and stuck tools", () => {
  it("a tool that ignores cancellation: the call fails with CALL_TIMEOUT, the worker is replaced, the pool keeps serving", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1, cancelGraceMs: 300 });
    await pool.ready();
    const [stuckPid] = pool.stats().pids as [number];
    const err = await rejection(pool.execute("sleep_forever", {}, { timeoutMs: 200 }));
    expect(err.code).toBe("CALL_TIMEOUT");
    expect(await pool.execute("add", { a: 2, b: 3 })).toBe(5);
    expect(pool.stats().restartsByReason.stuck).toBe(1);
    await waitFor(() => !isRunning(stuckPid), { message: "the stuck worker to be killed" });
  });

  it("a call waiting in a stuck worker's window never started: it runs on the replacement", async () => {
    // The stuck call is cancelled only once Python has started it (its tool logs first): a call
    // cancelled while it still waits in the worker never runs, and then nothing is stuck. With a
    // 200 ms and then a 1 s deadline, loaded CI workers twice had not started it in time.
    const messages: string[] = [];
    const logger = (): Logger => {
      const at = (_obj: object, msg?: string) => void messages.push(msg ?? "");
      return { child: logger, trace: at, debug: at, info: at, warn: at, error: at };
    };
    const pool = usePool({
      adapter: echoAdapter,
      size: 1,
      pipelineDepth: 2,
      cancelGraceMs: 300,
      logger: logger(),
    });
    await pool.ready();
    const [stuckPid] = pool.stats().pids as [number];
    const controller = new AbortController();
    const stuck = rejection(
      pool.execute(
        "sleep_forever",
        { announce: "stuck call started" },
        { signal: controller.signal },
      ),
    );
    const behind = pool.execute("pid");
    await waitFor(() => messages.includes("stuck call started"), {
      message: "the stuck call to start",
    });
    controller.abort();
    expect((await stuck).code).toBe("ABORTED");
    const pid = await behind;
    expect(pid).not.toBe(stuckPid);
    expect(pool.stats().restartsByReason.stuck).toBe(1);
  });

  it("aborting a call that waits in a worker's window does not get the call running there killed as stuck", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1, pipelineDepth: 2, cancelGraceMs: 300 });
    await pool.ready();
    const [pid] = pool.stats().pids as [number];
    const running = pool.execute("sleep", { seconds: 1 });
    const controller = new AbortController();
    const waiting = rejection(pool.execute("pid", {}, { signal: controller.signal }));
    await waitFor(() => pool.stats().inFlight === 2);
    controller.abort();
    expect((await waiting).code).toBe("ABORTED");
    await running;
    expect(await pool.execute("pid")).toBe(pid);
    expect(pool.stats().restarts).toBe(0);
  });

  it("a tool that honours cancellation: the same worker serves the next call", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 1, cancelGraceMs: 2000 });
    await pool.ready();
    const [pid] = pool.stats().pids as [number];
    expect((await rejection(pool.execute("sleep", { seconds: 10 }, { timeoutMs: 200 }))).code).toBe(
      "CALL_TIMEOUT",
    );
    expect(await pool.execute("pid")).toBe(pid);
    expect(pool.stats().restarts).toBe(0);
  });
});

describe("crashes", () => {
  it.each([
    ["os._exit in a tool", "exit"],
    ["SIGKILL from outside", "kill"],
  ])(
    "%s with 50 calls in flight: every promise settles, the pool is back to full size",
    async (_name, how) => {
      const pool = usePool({ adapter: echoAdapter, size: 4 });
      await pool.ready();
      const calls = Array.from({ length: 50 }, (_, i) =>
        pool.execute("sleep", { seconds: 0.05 + (i % 4) * 0.01 }),
      );
      let victim: number | undefined;
      if (how === "exit") {
        calls.push(pool.execute("crash", { code: 9 }));
      } else {
        victim = pool.stats().pids[0];
        process.kill(victim as number, "SIGKILL");
      }
      const settled = await Promise.allSettled(calls);
      const failed = settled.flatMap((s) =>
        s.status === "rejected" ? [(s.reason as { code: string }).code] : [],
      );
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(new Set(failed)).toEqual(new Set(["WORKER_CRASHED"]));
      expect(settled.filter((s) => s.status === "fulfilled").length).toBeGreaterThanOrEqual(40);
      await waitFor(() => pool.stats().workers.idle === 4, {
        timeoutMs: 10_000,
        message: "four idle workers",
      });
      expect(pool.stats().restartsByReason.crashed).toBe(1);
    },
  );

  it("an idempotent call whose worker dies runs again on another worker; a plain call fails", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 2 });
    await pool.ready();
    const busyPid = async () => {
      await waitFor(() => pool.stats().workerDetails.some((w) => w.inFlight === 1), {
        message: "a busy worker",
      });
      return pool.stats().workerDetails.find((w) => w.inFlight === 1)?.pid as number;
    };
    const idempotent = pool.execute("sleep", { seconds: 0.5 }, { idempotent: true });
    process.kill(await busyPid(), "SIGKILL");
    expect(await idempotent).toBe(0.5);
    await waitFor(() => pool.stats().workers.idle === 2, { timeoutMs: 10_000 });
    const plain = pool.execute("sleep", { seconds: 0.5 });
    process.kill(await busyPid(), "SIGKILL");
    expect((await rejection(plain)).code).toBe("WORKER_CRASHED");
  });
});

describe("start failures", () => {
  let unsubscribe: (() => void) | undefined;
  afterEach(() => unsubscribe?.());

  it("a replacement that cannot start: waiting callers get the error, restarts back off, the pool reports degraded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adapter-"));
    const adapterFile = join(dir, "flaky_adapter.py");
    const modelFile = join(dir, "model.bin");
    writeFileSync(modelFile, "weights");
    // setup() loads a model file: in spawn and fork mode alike, each worker runs it at start.
    writeFileSync(
      adapterFile,
      [
        "import os, time",
        "from snakepit_bridge import Adapter, tool",
        "class FlakyAdapter(Adapter):",
        "    def setup(self):",
        `        if not os.path.exists(${JSON.stringify(modelFile)}):`,
        "            raise FileNotFoundError('the model file is gone')",
        "    @tool",
        "    def sleep(self, seconds: float) -> None:",
        "        time.sleep(seconds)",
        "    @tool",
        "    def add(self, a: int, b: int) -> int:",
        "        return a + b",
        "",
      ].join("\n"),
    );
    try {
      const pool = usePool({
        adapter: `${adapterFile}:FlakyAdapter`,
        size: 1,
        heartbeat: false,
        pipelineDepth: 1, // the second call waits in the queue
      });
      await pool.ready();
      // Remove the model file, then crash the worker: every replacement now fails in setup().
      rmSync(modelFile);
      let attempts = 0;
      unsubscribe = subscribe("snakepit:worker:spawned", () => attempts++);
      const running = rejection(pool.execute("sleep", { seconds: 5 }));
      const queued = rejection(pool.execute("add", { a: 1, b: 1 }));
      await waitFor(() => pool.stats().inFlight === 1);
      process.kill(pool.stats().pids[0] as number, "SIGKILL");
      expect((await running).code).toBe("WORKER_CRASHED");
      const err = await queued;
      expect(["ADAPTER_LOAD_FAILED", "POOL_DEGRADED"]).toContain(err.code);
      expect(String(err.message)).toContain("the model file is gone");
      await waitFor(() => pool.stats().health === "degraded", {
        timeoutMs: 15_000,
        message: "the pool to report degraded",
      });
      expect((await rejection(pool.execute("add", { a: 1, b: 1 }))).code).toBe("POOL_DEGRADED");
      // Backoff, not a busy loop: over the next 2 s a few start attempts, not one every ~100 ms.
      const before = attempts;
      await new Promise((r) => setTimeout(r, 2000));
      expect(attempts - before).toBeGreaterThanOrEqual(1);
      expect(attempts - before).toBeLessThanOrEqual(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
