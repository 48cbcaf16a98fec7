import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { killWithEscalation } from "@snakepit/process-killer";
import { isRunning, processGroup, waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  canFork,
  createPrivateDirectory,
  type ForkServer,
  type PrivateDirectory,
  resolvePythonEnvironment,
  startForkServer,
  type WorkerProcess,
} from "./index.js";

const fixtures = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
const echoAdapter = `${fixtures}echo_adapter.py:EchoAdapter`;
const preloadAdapter = `${fixtures}preload_adapter.py:PreloadAdapter`;

let dir: PrivateDirectory | undefined;
const servers: ForkServer[] = [];
const workers: WorkerProcess[] = [];
const hosts: ChildProcess[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) {
    if (host.exitCode === null && host.signalCode === null) {
      host.kill("SIGKILL");
      await new Promise((resolve) => host.once("exit", resolve));
    }
  }
  for (const w of workers.splice(0)) {
    await killWithEscalation(w.pid, { firstSignal: "SIGKILL", graceMs: 0, exited: w.exited });
    await w.exited;
    w.client.close();
  }
  for (const s of servers.splice(0)) await s.close();
  await (creatingDir ?? Promise.resolve(dir))?.then((d) => d?.remove());
  await dir?.remove();
  dir = undefined;
  creatingDir = undefined;
});

async function python(): Promise<string> {
  return (await resolvePythonEnvironment()).executable;
}

async function server(adapter = echoAdapter): Promise<ForkServer> {
  const s = await startForkServer({ pythonExecutable: await python(), adapter, runId: "forkrun" });
  servers.push(s);
  return s;
}

let creatingDir: Promise<PrivateDirectory> | undefined;
async function socketDir(): Promise<PrivateDirectory> {
  // One directory per test, even when several forks ask for it at once.
  creatingDir ??= createPrivateDirectory().then((d) => {
    dir = d;
    return d;
  });
  return creatingDir;
}

async function fork(s: ForkServer, workerId: string, extra = {}): Promise<WorkerProcess> {
  const d = await socketDir();
  const w = await s.fork({ workerId, listen: d.socketAddress(`${workerId}.sock`), ...extra });
  workers.push(w);
  return w;
}

const gone = (pids: readonly number[]) => () => pids.every((pid) => !isRunning(pid));

describe.runIf(canFork())("fork server", () => {
  it("forks 4 workers that each serve tools, lead their own group and carry the run-id marker", async () => {
    const s = await server();
    const forked = await Promise.all(["w0", "w1", "w2", "w3"].map((id) => fork(s, id)));
    const pids = forked.map((w) => w.pid);
    expect(new Set(pids).size).toBe(4);
    expect(pids).not.toContain(s.pid);
    for (const [i, w] of forked.entries()) {
      expect(await w.client.ping("hi")).toMatchObject({ workerId: `w${i}`, pid: w.pid });
      expect(await w.client.execute("add", { a: i, b: 40 })).toMatchObject({ value: i + 40 });
      expect(w.pgid).toBe(w.pid);
      expect(processGroup(w.pid)).toBe(w.pid);
      const argv = readFileSync(`/proc/${w.pid}/cmdline`, "utf8").split("\0");
      expect(argv[argv.indexOf("--snakepit-run-id") + 1]).toBe("forkrun");
    }
  });

  it("applies per-worker environment, secret-free env and cwd after the fork; setup runs per worker", async () => {
    const s = await server(preloadAdapter);
    const d = await socketDir();
    const a = await fork(s, "a", { env: { SNAKEPIT_T: "one", HOME: undefined }, cwd: d.path });
    const b = await fork(s, "b", { env: { SNAKEPIT_T: "two" } });
    const names = ["SNAKEPIT_T", "HOME", "SNAKEPIT_SECRET"];
    const ea = (await a.client.execute("environment", { names })).value;
    const eb = (await b.client.execute("environment", { names })).value;
    expect(ea).toMatchObject({ cwd: d.path, env: { SNAKEPIT_T: "one", HOME: null } });
    expect(eb).toMatchObject({
      cwd: process.cwd(),
      env: { SNAKEPIT_T: "two", HOME: process.env.HOME ?? null },
    });
    expect(await a.client.execute("put", { key: "k", value: 1 })).toMatchObject({ value: 1 });
    expect(await a.client.execute("put", { key: "j", value: 2 })).toMatchObject({ value: 2 });
    expect(await b.client.execute("put", { key: "k", value: 1 })).toMatchObject({ value: 1 });
    expect(await b.client.execute("total", { amounts: ["0.1", "0.2"] })).toMatchObject({
      value: "0.3",
    });
  });

  it.each([
    ["SIGKILL", { code: null, signal: "SIGKILL" }],
    ["SIGTERM", { code: 0, signal: null }],
  ] as const)("reports the exit of a worker killed with %s through `exited`", async (sig, exit) => {
    const s = await server();
    const w = await fork(s, "w");
    process.kill(w.pid, sig);
    expect(await w.exited).toEqual(exit);
    expect(w.exit).toEqual(exit);
  });

  it("reports a worker's own exit code", async () => {
    const s = await server();
    const w = await fork(s, "w");
    await w.client.execute("crash", { code: 7 }).catch(() => undefined);
    expect(await w.exited).toEqual({ code: 7, signal: null });
  });

  it("rejects with ADAPTER_LOAD_FAILED when setup() fails in the child, leaving no process", async () => {
    const s = await server(`${fixtures}setup_error_adapter.py:SetupErrorAdapter`);
    const d = await socketDir();
    const err = await s.fork({ workerId: "w", listen: d.socketAddress("w.sock") }).catch((e) => e);
    expect(err).toMatchObject({ code: "ADAPTER_LOAD_FAILED" });
    expect(err.details.traceback).toContain("model file not found");
  });

  it("rejects startForkServer with ADAPTER_LOAD_FAILED when the adapter module cannot be imported", async () => {
    const err = await startForkServer({
      pythonExecutable: await python(),
      adapter: `${fixtures}import_error_adapter.py`,
      runId: "forkrun",
    }).catch((e) => e);
    expect(err).toMatchObject({ code: "ADAPTER_LOAD_FAILED" });
    expect(err.details.traceback).toContain("missing_dependency_for_snakepit_tests");
  });

  it("rejects a fork whose adapter differs from the fork server's", async () => {
    const s = await server();
    const err = await s
      .fork({ workerId: "w", listen: "unix:/nonexistent/w.sock", adapter: preloadAdapter })
      .catch((e) => e);
    expect(err).toMatchObject({ code: "INVALID_OPTIONS" });
  });

  it("close() takes every forked worker down within 2 s", async () => {
    const s = await server();
    const forked = await Promise.all(["w0", "w1", "w2"].map((id) => fork(s, id)));
    const started = Date.now();
    await s.close();
    expect(gone(forked.map((w) => w.pid))()).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    for (const w of forked) await w.exited;
    await expect(s.fork({ workerId: "late", listen: "unix:/x/late.sock" })).rejects.toMatchObject({
      code: "WORKER_START_FAILED",
    });
  });

  it("SIGKILL of the fork server alone: serving workers keep serving, and close() still stops them", async () => {
    const s = await server();
    const forked = await Promise.all(["w0", "w1"].map((id) => fork(s, id)));
    const child = (await forked[0]?.client.execute("spawn_child", {}))?.value as number;
    process.kill(s.pid, "SIGKILL");
    expect(await s.exited).toEqual({ code: null, signal: "SIGKILL" });
    // Past the workers' host re-checks (about 1.3 s): still running, still serving.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (const w of forked) {
      expect(isRunning(w.pid)).toBe(true);
      expect(w.exit).toBeUndefined();
      expect((await w.client.execute("echo", { value: w.pid })).value).toBe(w.pid);
    }
    expect(isRunning(child)).toBe(true);
    // A new server forks new workers next to the survivors.
    const next = await server();
    const fresh = await fork(next, "w2");
    expect((await fresh.client.execute("echo", { value: 2 })).value).toBe(2);
    await s.close();
    expect(gone([...forked.map((w) => w.pid), child])()).toBe(true);
    for (const w of forked) expect(await w.exited).toEqual({ code: null, signal: null });
    expect(isRunning(fresh.pid)).toBe(true);
  });

  it("SIGKILL of the fork server takes down a worker still starting: its fork rejects, no process left", async () => {
    const s = await server(preloadAdapter);
    const d = await socketDir();
    let pid = 0;
    const starting = s.fork({
      workerId: "slow",
      listen: d.socketAddress("slow.sock"),
      env: { SNAKEPIT_TEST_SETUP_SECONDS: "30" },
      onSpawn: (p) => {
        pid = p;
      },
    });
    await waitFor(() => pid > 0, { timeoutMs: 5000, message: "the fork" });
    process.kill(s.pid, "SIGKILL");
    await expect(starting).rejects.toMatchObject({ code: "WORKER_START_FAILED" });
    await waitFor(gone([pid]), { timeoutMs: 2000, message: "the starting worker to die" });
  });

  it("a start aborted the moment its fork returns rejects with ABORTED and leaves no process or socket", async () => {
    const s = await server();
    const d = await socketDir();
    for (const transport of ["frames", "grpc"] as const) {
      const controller = new AbortController();
      let pid = 0;
      const starting = s.fork({
        workerId: `aborted-${transport}`,
        listen: d.socketAddress(`aborted-${transport}.sock`),
        transport,
        signal: controller.signal,
        // Called between the fork and the wait for ready: the wait starts already aborted.
        onSpawn: (p) => {
          pid = p;
          controller.abort();
        },
      });
      await expect(starting).rejects.toMatchObject({ code: "ABORTED" });
      expect(isRunning(pid)).toBe(false);
    }
    // The leak check (setup file) fails the test if the control or frames socket stays open.
  });

  it("SIGKILL of the Node host kills the fork server, its workers and their children within 2 s", async () => {
    const host = spawn(
      process.execPath,
      [
        `${fixtures}fork-host.mjs`,
        JSON.stringify({
          pythonExecutable: await python(),
          adapter: echoAdapter,
          workers: 3,
          spawnChildren: true,
        }),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    hosts.push(host);
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      host.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
      });
      host.once("exit", (code) => reject(new Error(`fork host exited early (${code})`)));
    });
    const report = JSON.parse(line) as {
      server: number;
      pids: number[];
      children: number[];
      dir: string;
    };
    expect(report.pids).toHaveLength(3);
    expect(report.children).toHaveLength(3);
    host.kill("SIGKILL");
    await waitFor(gone([report.server, ...report.pids, ...report.children]), {
      timeoutMs: 2000,
      message: "fork server, workers and their children to die",
    });
    rmSync(report.dir, { recursive: true, force: true });
  });
});
