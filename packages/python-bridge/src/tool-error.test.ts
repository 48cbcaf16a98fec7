import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { isSnakepitError } from "@snakepit/errors";
import { killWithEscalation } from "@snakepit/process-killer";
import { afterEach, describe, expect, it } from "vitest";
import { startupErrorCodes, ToolErrorSchema, toolErrorCodes } from "./contract.js";
import {
  createPrivateDirectory,
  type PrivateDirectory,
  resolvePythonEnvironment,
  spawnWorker,
  type WorkerProcess,
} from "./index.js";
import { toolErrorToSnakepitError } from "./tool-error.js";
import { parseControlLine } from "./worker-handshake.js";

const toolError = (code: string) =>
  create(ToolErrorSchema, { type: "CancelledError", message: "stopped", code });

describe("the error codes a worker sends", () => {
  it.each(toolErrorCodes)("ToolError code %s keeps its code on the host", (code) => {
    const err = toolErrorToSnakepitError(toolError(code), "sleep");
    expect(err.code).toBe(code);
    expect(err.details).toMatchObject({ type: "CancelledError", tool: "sleep" });
  });

  it("an empty code is a user exception: TOOL_ERROR", () => {
    const err = toolErrorToSnakepitError(toolError(""), "sleep");
    expect(err.code).toBe("TOOL_ERROR");
    expect(err.message).toBe('Tool "sleep" raised CancelledError: stopped');
  });

  it.each(["CANCELLED", "SHUTTING_DOWN", "POOL_CLOSED"])(
    "a code outside the contract (%s) is a PROTOCOL_ERROR that names it",
    (code) => {
      const err = toolErrorToSnakepitError(toolError(code), "sleep");
      expect(err.code).toBe("PROTOCOL_ERROR");
      expect(err.details).toMatchObject({ code, type: "CancelledError" });
      expect(err.message).toContain(`"${code}"`);
    },
  );

  it.each(startupErrorCodes)("start-up error code %s keeps its code on the host", (code) => {
    const line = JSON.stringify({ event: "error", code, type: "E", message: "m", traceback: "" });
    const parsed = parseControlLine(line, { workerId: "w1", adapter: "a:A" });
    expect(parsed.kind === "error" && parsed.error.code).toBe(code);
  });
});

describe("a call cut short by the worker's shutdown", () => {
  const fixtures = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
  let dir: PrivateDirectory | undefined;
  let worker: WorkerProcess | undefined;
  afterEach(async () => {
    if (worker !== undefined) {
      await killWithEscalation(worker.pid, {
        firstSignal: "SIGKILL",
        graceMs: 0,
        exited: worker.exited,
      });
      await worker.exited;
      worker.client.close();
      worker = undefined;
    }
    await dir?.remove();
    dir = undefined;
  });

  it("fails with WORKER_STOPPED", async () => {
    dir = await createPrivateDirectory();
    worker = await spawnWorker({
      pythonExecutable: (await resolvePythonEnvironment()).executable,
      adapter: `${fixtures}echo_adapter.py:EchoAdapter`,
      workerId: "w1",
      runId: "testrun",
      listen: dir.socketAddress("w1.sock"),
    });
    const client = worker.client;
    const slow = client.execute("async_sleep", { seconds: 30 }).catch((err: unknown) => err);
    while ((await client.heartbeat(1n)).inFlight === 0) await new Promise((r) => setTimeout(r, 20));
    await client.shutdown(100);
    const err = await slow;
    expect(isSnakepitError(err, "WORKER_STOPPED")).toBe(true);
    expect(await worker.exited).toMatchObject({ code: 0 });
  });
});
