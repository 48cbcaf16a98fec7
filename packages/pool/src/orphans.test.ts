import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { canFork } from "@snakepit/python-bridge";
import { isRunning, parentPid, waitFor } from "@snakepit/testing";
import { describe, expect, it } from "vitest";
import { cleanupOrphans } from "./index.js";

const hostScript = fileURLToPath(new URL("../test/fixtures/host.mjs", import.meta.url));
const echoAdapter = fileURLToPath(
  new URL("../../python-bridge/test/fixtures/echo_adapter.py:EchoAdapter", import.meta.url),
);

interface Host {
  readonly child: ChildProcess;
  readonly pids: number[];
  readonly children: number[];
}

/** Starts a real Node host process running a pool; resolves once its workers are busy. */
async function startHost(options: Record<string, unknown>): Promise<Host> {
  const child = spawn(
    process.execPath,
    [hostScript, JSON.stringify({ adapter: echoAdapter, ...options })],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout?.setEncoding("utf8");
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
    child.once("exit", (code) => reject(new Error(`host exited with ${code} before reporting`)));
  });
  const { pids, children } = JSON.parse(line) as { pids: number[]; children: number[] };
  return { child, pids, children };
}

/** SIGKILLs the host and resolves with how long until every given process was gone. */
async function killHostAndTime(
  host: Host,
  processes: number[],
  timeoutMs: number,
): Promise<number> {
  const exited = once(host.child, "exit");
  const killedAt = performance.now();
  host.child.kill("SIGKILL");
  await exited;
  await waitFor(() => processes.every((pid) => !isRunning(pid)), {
    timeoutMs,
    intervalMs: 10,
    message: "every worker to exit",
  });
  const elapsed = performance.now() - killedAt;
  // The host died without removing its socket directory and records: the next cleanup does.
  const report = await cleanupOrphans();
  expect(report.directoriesRemoved).toHaveLength(1);
  return elapsed;
}

/** The session id of `pid` (field 6 of `/proc/<pid>/stat`; the command name may hold spaces). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

const busyCalls = [
  ["cpu_burn", { seconds: 60 }],
  ["cpu_burn", { seconds: 60 }],
  ["cpu_burn", { seconds: 60 }],
  ["sleep", { seconds: 60 }],
  ["sleep", { seconds: 60 }],
  ["sleep", { seconds: 60 }],
];

describe("opt-in signal handling", () => {
  it("on SIGTERM the host closes its pool (workers stopped, nothing left to clean) and still exits by the signal", async () => {
    const host = await startHost({ size: 2, handleSignals: true, registry: false });
    const exited = once(host.child, "exit");
    host.child.kill("SIGTERM");
    const [code, signal] = (await exited) as [number | null, string | null];
    expect(signal).toBe("SIGTERM");
    expect(code).toBeNull();
    for (const pid of host.pids) expect(isRunning(pid)).toBe(false);
    expect((await cleanupOrphans()).directoriesRemoved).toEqual([]);
  });
});

// The single-layer tests pin `startMode: "spawn"`: in fork mode the fork server, which dies with
// the host, also takes its workers down, so no single layer can be observed alone.
describe("no orphans when the host is SIGKILLed", () => {
  it.each(Array.from({ length: 10 }, (_, i) => i + 1))(
    "8 workers (idle, CPU-busy, sleeping) are all gone within 2 s — run %i of 10",
    async () => {
      const host = await startHost({ size: 8, calls: busyCalls, registry: false });
      expect(host.pids).toHaveLength(8);
      const elapsed = await killHostAndTime(host, host.pids, 2000);
      expect(elapsed).toBeLessThan(2000);
    },
  );

  // Linux shares the CPU between sessions (autogroups) before processes: forked workers left in
  // their fork server's session shared one share, and on a loaded machine took seconds to exit.
  it.runIf(canFork())(
    "fork mode: 8 workers (idle, CPU-busy, sleeping), each leading its own session, are all gone within 2 s",
    async () => {
      const host = await startHost({
        size: 8,
        calls: busyCalls,
        registry: false,
        startMode: "fork",
      });
      const sessions = host.pids.map(sessionOf);
      const elapsed = await killHostAndTime(host, host.pids, 2000);
      expect(sessions).toEqual(host.pids);
      expect(elapsed).toBeLessThan(2000);
    },
  );

  it("takes each worker's own child processes with it", async () => {
    const host = await startHost({ size: 2, spawnChildren: true, registry: false });
    expect(host.children).toHaveLength(2);
    for (const pid of host.children) expect(isRunning(pid)).toBe(true);
    await killHostAndTime(host, [...host.pids, ...host.children], 3000);
  });

  it("the dependent heartbeat alone ends the workers (pipe and parent-death layers off)", async () => {
    const lifelines = {
      pipe: false,
      parentDeathSignal: false,
      hostHeartbeat: { intervalMs: 200, timeoutMs: 200, maxMissed: 3 },
    };
    const host = await startHost({
      size: 2,
      calls: [["sleep", { seconds: 60 }]],
      lifelines,
      registry: false,
      shutdownGraceMs: 500,
      startMode: "spawn",
    });
    // Bound: 3 failed beats 200 ms apart (each fails fast: the host's socket is gone), then a graceful stop.
    const elapsed = await killHostAndTime(host, host.pids, 5000);
    expect(elapsed).toBeGreaterThan(300);
  });

  it.runIf(canFork())(
    "fork mode: with the fork server SIGKILLed alone first, the workers keep serving and still die with the host",
    async () => {
      const host = await startHost({
        size: 3,
        calls: busyCalls.slice(0, 2),
        registry: false,
        startMode: "fork",
      });
      const server = parentPid(host.pids[0] as number);
      process.kill(server, "SIGKILL");
      await waitFor(() => !isRunning(server), { message: "the fork server to die" });
      // Past the workers' check that the host lives (about 1.3 s): all still there.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const pid of host.pids) expect(isRunning(pid)).toBe(true);
      const elapsed = await killHostAndTime(host, host.pids, 2000);
      expect(elapsed).toBeLessThan(2000);
    },
  );

  it("the watchdog alone ends the workers (every other layer off)", async () => {
    const lifelines = {
      pipe: false,
      parentDeathSignal: false,
      hostHeartbeat: false,
      watchdog: true,
    };
    const host = await startHost({
      size: 2,
      calls: [["cpu_burn", { seconds: 60 }]],
      lifelines,
      registry: false,
      shutdownGraceMs: 500,
      startMode: "spawn",
    });
    await killHostAndTime(host, host.pids, 5000);
  });
});
