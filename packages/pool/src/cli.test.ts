import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isRunning, waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";

// The real command, as `npx snakepit` runs it: the built dist/cli.js in a child process.
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const hostScript = fileURLToPath(new URL("../test/fixtures/host.mjs", import.meta.url));
const fixtures = fileURLToPath(new URL("../../python-bridge/test/fixtures/", import.meta.url));
const echoAdapter = `${fixtures}echo_adapter.py:EchoAdapter`;
const { version } = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as { version: string };

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function snakepit(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

let dataDir: string | undefined;
const hosts: ChildProcess[] = [];
afterEach(() => {
  for (const host of hosts.splice(0)) host.kill("SIGKILL");
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

/** A real Node host running a pool that records its workers in `dir`; resolves with their pids. */
async function startHost(dir: string, options: Record<string, unknown> = {}) {
  const child = spawn(
    process.execPath,
    [
      hostScript,
      JSON.stringify({ adapter: echoAdapter, size: 2, registry: { dataDir: dir }, ...options }),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  hosts.push(child);
  child.stdout?.setEncoding("utf8");
  let out = "";
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
    child.once("exit", (code) => reject(new Error(`host exited with ${code} before reporting`)));
  });
  return { child, pids: (JSON.parse(line) as { pids: number[] }).pids };
}

// Each case starts one or more real `node dist/cli.js` (and Python) processes: generous under load.
describe("snakepit (the real CLI)", { timeout: 240_000 }, () => {
  it.each([
    [["--help"]],
    [["-h"]],
    [[]],
    [["doctor", "--help"]],
    [["status", "--help"]],
    [["cleanup", "--help"]],
  ])("prints help on stdout and exits 0: snakepit %j", async (args) => {
    const result = await snakepit(...args);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^Usage: snakepit/);
    expect(result.stdout).toContain("Exit codes:");
  });

  it("prints its version", async () => {
    expect(await snakepit("--version")).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.each([[["frobnicate"]], [["doctor", "--bogus"]], [["cleanup", "--data-dir"]]])(
    "exits 2 on a usage error, with the reason on stderr: snakepit %j",
    async (args) => {
      const result = await snakepit(...args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/unknown command|Unknown option|argument missing/);
    },
  );

  it("doctor passes on an adapter with tools, and --json says so", async () => {
    const text = await snakepit("doctor", "--adapter", `${fixtures}module_tools.py`);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("2 tools (greet, upper)");
    const json = await snakepit("doctor", "--adapter", `${fixtures}module_tools.py`, "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      python: { version: expect.stringMatching(/^3\./), grpcio: expect.any(String) },
      bridge: { version: expect.any(String) },
      adapter: { tools: ["greet", "upper"] },
      problems: [],
    });
  });

  it("doctor fails (exit 1, with the reason) on a module that has no tools", async () => {
    const text = await snakepit("doctor", "--adapter", "os");
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      "FAIL adapter: [ADAPTER_HAS_NO_TOOLS] os loaded but exposes no tools",
    );
    const json = await snakepit("doctor", "--adapter", "os", "--json");
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      adapter: { spec: "os", tools: [] },
      problems: [{ check: "adapter", code: "ADAPTER_HAS_NO_TOOLS" }],
    });
  });

  it.each([["/proc/1/nope"], ["/etc/hostname"]])(
    "cleanup and status fail with a clear message on a data directory they cannot read: %s",
    async (dir) => {
      for (const command of ["cleanup", "status"]) {
        const text = await snakepit(command, "--data-dir", dir);
        expect(text.code).toBe(1);
        expect(text.stderr).toContain(`[REGISTRY_IO] Cannot read the data directory ${dir}`);
        const json = await snakepit(command, "--data-dir", dir, "--json");
        expect(json.code).toBe(1);
        expect(JSON.parse(json.stdout)).toMatchObject({
          ok: false,
          error: { code: "REGISTRY_IO" },
        });
      }
    },
  );

  it("status lists a live host's workers; once the host is SIGKILLed, the dead run and its orphans, which cleanup then kills", async () => {
    const dir = mkdtempSync(join(tmpdir(), "snakepit-cli-"));
    dataDir = dir;
    // No lifelines: the workers outlive their host, as when every layer failed.
    const lifelines = { pipe: false, parentDeathSignal: false, hostHeartbeat: false };
    const host = await startHost(dir, { lifelines, startMode: "spawn" });
    try {
      const live = await snakepit("status", "--data-dir", dir, "--json");
      expect(live.code).toBe(0);
      const report = JSON.parse(live.stdout) as {
        runs: { state: string; host: { pid: number }; workers: Record<string, unknown>[] }[];
      };
      expect(report.runs).toHaveLength(1);
      expect(report.runs[0]).toMatchObject({ state: "live", host: { pid: host.child.pid } });
      const workers = report.runs[0]?.workers ?? [];
      expect(workers.map((w) => w.pid).sort()).toEqual([...host.pids].sort());
      for (const w of workers) {
        expect(w).toMatchObject({ state: "running", workerId: expect.any(String) });
        expect(w.rssBytes).toBeGreaterThan(1024 * 1024);
        expect(w.uptimeMs).toBeGreaterThanOrEqual(0);
      }
      const text = await snakepit("status", "--data-dir", dir);
      expect(text.stdout).toContain("live runs: 1, dead runs awaiting cleanup: 0");
      expect(text.stdout).toMatch(/worker \S+ \(pool [^)]+\): running, pid \d+, up \d+s, rss \d/);

      const exited = once(host.child, "exit");
      host.child.kill("SIGKILL");
      await exited;
      const dead = await snakepit("status", "--data-dir", dir);
      expect(dead.code).toBe(0);
      expect(dead.stdout).toContain("live runs: 0, dead runs awaiting cleanup: 1");
      expect(dead.stdout).toContain("run `snakepit cleanup`");

      const cleanup = await snakepit("cleanup", "--data-dir", dir, "--json");
      expect(cleanup.code).toBe(0);
      const swept = JSON.parse(cleanup.stdout) as { ok: boolean; registry: { killed: unknown[] } };
      expect(swept.ok).toBe(true);
      expect(swept.registry.killed).toHaveLength(2);
      for (const pid of host.pids) expect(isRunning(pid)).toBe(false);
      const after = await snakepit("status", "--data-dir", dir, "--json");
      expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, runs: [] });
    } finally {
      for (const pid of host.pids) if (isRunning(pid)) process.kill(pid, "SIGKILL");
      await waitFor(() => host.pids.every((pid) => !isRunning(pid)), {
        message: "the workers to be gone",
      });
    }
  }, 120_000);
});
