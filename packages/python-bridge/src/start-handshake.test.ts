import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SnakepitError } from "@snakepit/errors";
import { isRunning } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { spawnPython } from "./spawn-python.js";
import { awaitStart, type StartingProcess } from "./start-handshake.js";
import type { WorkerExit } from "./worker-exit.js";

// Node programs stand in for Python here: the handshake skeleton does not care what runs.
// A leader of its own group that starts a child in that group, prints "<child pid>", then idles.
const LEADER = `
const { spawn } = require("node:child_process");
const c = spawn(process.execPath, ["-e", "setInterval(() => {}, 60000)"], { stdio: "ignore" });
process.stdout.write(c.pid + "\\n");
setInterval(() => {}, 60000);`;

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  }
});

function start(script: string): {
  child: ChildProcess;
  exited: Promise<WorkerExit>;
  firstLine: Promise<string>;
} {
  const child = spawn(process.execPath, ["-e", script], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.push(child);
  const exited = once(child, "exit").then(([code, signal]) => ({ code, signal }) as WorkerExit);
  const firstLine = once(child.stdout ?? child, "data").then(([d]) => String(d).trim());
  return { child, exited, firstLine };
}

function watch(
  child: ChildProcess,
  exited: Promise<WorkerExit>,
  extra: Partial<StartingProcess> = {},
): StartingProcess {
  return {
    name: "Test process",
    pid: child.pid,
    exited,
    startTimeoutMs: 30_000,
    signal: undefined,
    output: () => "last words",
    ...extra,
  };
}

describe("awaitStart", () => {
  it("resolves with what the reader reports ready, and leaves the process running", async () => {
    const { child, exited } = start("setInterval(() => {}, 60000)");
    const value = await awaitStart<string>(watch(child, exited), (a) => a.ready("up"));
    expect(value).toBe("up");
    expect(isRunning(child.pid ?? 0)).toBe(true);
  });

  it("on fail: kills the whole group and rejects with the error only once the process has exited", async () => {
    const { child, exited, firstLine } = start(LEADER);
    const member = Number(await firstLine);
    let exit: WorkerExit | undefined;
    void exited.then((e) => {
      exit = e;
    });
    const error = new SnakepitError("ADAPTER_LOAD_FAILED", "bad adapter");
    const err = await awaitStart(watch(child, exited), (a) => a.fail(error)).catch((e) => e);
    expect(err).toBe(error);
    expect(exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(isRunning(member)).toBe(false);
  });

  it.each([
    ["the start timeout passes", { startTimeoutMs: 50 }, "WORKER_START_TIMEOUT"],
    ["the signal aborts", { signal: AbortSignal.abort() }, "ABORTED"],
  ] as const)("when %s: kills the process and rejects", async (_, extra, code) => {
    const { child, exited } = start("setInterval(() => {}, 60000)");
    const err = await awaitStart(watch(child, exited, extra), () => undefined).catch((e) => e);
    expect(err).toMatchObject({ code });
    expect(child.signalCode).toBe("SIGKILL");
  });

  it("reports an exit before ready as WORKER_START_FAILED with the exit and the output", async () => {
    const { child, exited } = start("process.exit(3)");
    const err = await awaitStart<never>(watch(child, exited), () => undefined).catch(
      (e: Error) => e,
    );
    expect(err).toMatchObject({
      code: "WORKER_START_FAILED",
      details: { exitCode: 3, signal: null, output: "last words" },
    });
    expect(err.message).toContain("Test process exited (exit code 3) before it was ready.");
  });

  it("lets an error the reader reports while the exit settles win over the exit", async () => {
    const { child, exited } = start("process.exit(1)");
    const error = new SnakepitError("ADAPTER_LOAD_FAILED", "the real reason");
    let fail: ((e: SnakepitError) => void) | undefined;
    const starting = watch(child, exited, {
      afterExit: async () => fail?.(error),
    });
    const err = await awaitStart(starting, (a) => {
      fail = a.fail;
    }).catch((e) => e);
    expect(err).toBe(error);
  });

  it("ignores everything after the first outcome", async () => {
    const { child, exited } = start("setInterval(() => {}, 60000)");
    const value = await awaitStart<number>(watch(child, exited), (a) => {
      a.ready(1);
      a.fail(new SnakepitError("INTERNAL", "too late"));
      a.ready(2);
    });
    expect(value).toBe(1);
    expect(isRunning(child.pid ?? 0)).toBe(true);
  });
});

const notExecutable = join(tmpdir(), `snakepit-not-executable-${process.pid}`);
afterEach(() => rmSync(notExecutable, { force: true }));

describe("spawnPython's spawn errors", () => {
  it.each([
    ["a missing interpreter", () => "/no/such/python"],
    [
      "a file that is not executable",
      () => {
        writeFileSync(notExecutable, "");
        chmodSync(notExecutable, 0o600);
        return notExecutable;
      },
    ],
  ])("map %s to PYTHON_NOT_FOUND, through the start handshake", async (_, executable) => {
    const { child, tail, spawnFailed } = spawnPython({
      pythonExecutable: executable(),
      args: [],
      fd3: "pipe",
    });
    const exited = new Promise<WorkerExit>(() => undefined);
    const err = await awaitStart(
      { ...watch(child, exited), spawnFailed, output: () => tail.toString() },
      () => undefined,
    ).catch((e) => e);
    expect(err).toMatchObject({ code: "PYTHON_NOT_FOUND" });
  });
});
