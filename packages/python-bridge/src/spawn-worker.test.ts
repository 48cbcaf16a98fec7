import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { killWithEscalation } from "@snakepit/process-killer";
import { afterEach, describe, expect, it } from "vitest";
import {
  createPrivateDirectory,
  type PrivateDirectory,
  resolvePythonEnvironment,
  spawnWorker,
  type WorkerProcess,
} from "./index.js";

const fixtures = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
const echoAdapter = `${fixtures}echo_adapter.py:EchoAdapter`;

let dir: PrivateDirectory | undefined;
const workers: WorkerProcess[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) {
    await killWithEscalation(w.pid, { firstSignal: "SIGKILL", graceMs: 0, exited: w.exited });
    await w.exited;
    w.client.close();
  }
  await dir?.remove();
  dir = undefined;
});

async function start(
  overrides: Partial<Parameters<typeof spawnWorker>[0]> = {},
): Promise<WorkerProcess> {
  const python = (await resolvePythonEnvironment()).executable;
  dir ??= await createPrivateDirectory();
  const worker = await spawnWorker({
    pythonExecutable: python,
    adapter: echoAdapter,
    workerId: "w1",
    runId: "testrun",
    listen: dir.socketAddress("w1.sock"),
    ...overrides,
  });
  workers.push(worker);
  return worker;
}

describe("spawnWorker", () => {
  it("resolves once the worker serves on a 0600 socket in a 0700 directory", async () => {
    const worker = await start();
    expect(worker.address).toBe(dir?.socketAddress("w1.sock"));
    expect(statSync(worker.address.slice("unix:".length)).mode & 0o777).toBe(0o600);
    expect(statSync(dir?.path ?? "").mode & 0o777).toBe(0o700);
    const pong = await worker.client.ping("hi");
    expect(pong).toMatchObject({ workerId: "w1", pid: worker.pid });
    expect(await worker.client.execute("add", { a: 40, b: 2 })).toMatchObject({ value: 42 });
  });

  it("puts the run id marker in the worker's argv", async () => {
    const worker = await start();
    const argv = readFileSync(`/proc/${worker.pid}/cmdline`, "utf8").split("\0");
    expect(argv).toContain("--snakepit-run-id");
    expect(argv[argv.indexOf("--snakepit-run-id") + 1]).toBe("testrun");
  });

  it("describes the adapter's tools with parameters and docs", async () => {
    const worker = await start();
    const tools = await worker.client.describeTools();
    const add = tools.find((t) => t.name === "add");
    expect(add).toMatchObject({ streaming: false, description: "Add two integers." });
    expect(add?.parameters).toEqual([
      {
        name: "a",
        type: "int",
        required: true,
        defaultValue: undefined,
        description: "The first addend.",
      },
      {
        name: "b",
        type: "int",
        required: true,
        defaultValue: undefined,
        description: "The second addend.",
      },
    ]);
    expect(tools.find((t) => t.name === "count")?.streaming).toBe(true);
  });

  it("rejects with ADAPTER_LOAD_FAILED and the Python traceback, leaving no process", async () => {
    const err = await start({ adapter: `${fixtures}import_error_adapter.py` }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "ADAPTER_LOAD_FAILED" });
    expect((err as { details: { traceback: string } }).details.traceback).toContain(
      "missing_dependency_for_snakepit_tests",
    );
  });

  it("rejects with PYTHON_NOT_FOUND for a missing interpreter", async () => {
    dir = await createPrivateDirectory();
    const err = await spawnWorker({
      pythonExecutable: "/no/such/python",
      adapter: echoAdapter,
      workerId: "w",
      runId: "r",
      listen: dir.socketAddress("w.sock"),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PYTHON_NOT_FOUND" });
  });

  it("rejects with the abort reason and kills the starting process", async () => {
    const controller = new AbortController();
    const starting = start({ signal: controller.signal });
    controller.abort();
    await expect(starting).rejects.toMatchObject({ code: "ABORTED" });
  });
});
