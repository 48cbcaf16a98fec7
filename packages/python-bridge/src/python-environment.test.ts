import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePythonEnvironment } from "./index.js";

describe("resolvePythonEnvironment", () => {
  it("accepts an explicit interpreter that has the requirements", async () => {
    const env = await resolvePythonEnvironment({
      pythonExecutable: process.env.SNAKEPIT_PYTHON ?? "python3",
    });
    expect(env.source).toBe("option");
    expect(env.grpcioVersion).toMatch(/^\d+\.\d+/);
  });

  it("says exactly what to run when the interpreter lacks grpcio", async () => {
    // The system interpreter has no grpcio here (the repository's venv does).
    const err = await resolvePythonEnvironment({ pythonExecutable: "/usr/bin/python3" }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "PYTHON_DEPENDENCY_MISSING" });
    expect((err as Error).message).toMatch(
      /Run: \/usr\/bin\/python3 -m pip install -r .*requirements\.txt/,
    );
  });

  it("reports PYTHON_NOT_FOUND for a path that does not exist", async () => {
    await expect(
      resolvePythonEnvironment({ pythonExecutable: "/nope/python" }),
    ).rejects.toMatchObject({ code: "PYTHON_NOT_FOUND" });
  });
});

const resolveScript = fileURLToPath(
  new URL("../test/fixtures/resolve-environment.mjs", import.meta.url),
);
const uvStandIn = fileURLToPath(new URL("../test/fixtures/uv-stand-in", import.meta.url));

interface Resolved {
  readonly code: number | null;
  readonly env: { source?: string; executable?: string; code?: string; message?: string };
  readonly stderr: string;
}

/** A first run in a real separate process: no SNAKEPIT_PYTHON, the given cache directory. */
function firstRun(cacheDir: string, extraEnv: Record<string, string>): Promise<Resolved> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SNAKEPIT_CACHE_DIR: cacheDir,
    // This machine reaches no package index over the network (only a local mirror): fail those
    // lookups at once instead of retrying for ~8 s per package.
    PIP_RETRIES: "0",
    ...extraEnv,
  };
  delete env.SNAKEPIT_PYTHON;
  const child = spawn(process.execPath, [resolveScript], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise((resolve) =>
    child.once("close", (code) =>
      resolve({ code, env: JSON.parse(stdout.trim().split("\n").at(-1) || "{}"), stderr }),
    ),
  );
}

// One venv is built here twice (once by each installer path), in a temp cache directory.
describe("the first-run venv", () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "snakepit-venv-test-"));
  const log = join(cacheDir, "uv-calls.jsonl");
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it("two processes starting at once build it once, with uv when it is on PATH: the second waits, then reuses it", async () => {
    // A real uv when there is one, else the stand-in (see its docstring).
    const path = `${uvStandIn}${delimiter}${process.env.PATH ?? ""}`;
    const extra = { PATH: path, UV_STAND_IN_LOG: log, SNAKEPIT_INSTALLER: "auto" };
    const [a, b] = await Promise.all([firstRun(cacheDir, extra), firstRun(cacheDir, extra)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.env.executable).toBe(b.env.executable);
    const [creator, waiter] = a.env.source === "created-venv" ? [a, b] : [b, a];
    expect([creator.env.source, waiter.env.source]).toEqual(["created-venv", "cached-venv"]);
    // Progress, by default, on stderr, a line per phase (stderr is a pipe here: no spinner).
    expect(creator.stderr).toMatch(
      /^snakepit: first run: creating a Python environment in .* \(uv\)$/m,
    );
    expect(creator.stderr).toMatch(/^snakepit: installing grpcio and protobuf with uv$/m);
    expect(creator.stderr).toMatch(/^snakepit: Python environment ready in \d+\.\d s/m);
    expect(creator.stderr).not.toContain("\r");
    expect(waiter.stderr).toMatch(
      /^snakepit: waiting for process \d+, which is creating the Python environment/m,
    );
    expect(waiter.stderr).not.toContain("first run: creating");
    const calls = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as string[]);
    expect(calls.map((c) => c.slice(0, 2))).toEqual([
      ["venv", "--python"],
      ["pip", "install"],
    ]);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith(".lock"))).toEqual([]);
  }, 300_000);

  it("is reused in-process, and a half-built one (creation interrupted) is detected and rebuilt, with pip when there is no uv", async () => {
    const saved = process.env.SNAKEPIT_PYTHON;
    delete process.env.SNAKEPIT_PYTHON;
    try {
      const cached = await resolvePythonEnvironment({ cacheDir, progress: false });
      expect(cached.source).toBe("cached-venv");
      expect(cached.bridge.source).toBe("bundled");
    } finally {
      if (saved !== undefined) process.env.SNAKEPIT_PYTHON = saved;
    }
    // What an install killed halfway leaves: the venv's python, no grpc, no completion stamp.
    const venvDir = readdirSync(cacheDir).find((f) => f.startsWith("venv-") && !f.includes("."));
    expect(venvDir).toBeDefined();
    const lib = join(cacheDir, venvDir as string, "lib");
    const sitePackages = join(lib, readdirSync(lib)[0] as string, "site-packages");
    rmSync(join(sitePackages, "grpc"), { recursive: true });
    rmSync(join(cacheDir, venvDir as string, ".snakepit-complete"));
    const rebuilt = await firstRun(cacheDir, { SNAKEPIT_INSTALLER: "pip" });
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.env.source).toBe("created-venv");
    expect(rebuilt.stderr).toMatch(/incomplete or broken; rebuilding it/);
    expect(rebuilt.stderr).toMatch(/^snakepit: installing grpcio and protobuf with pip/m);
    expect(existsSync(join(sitePackages, "grpc"))).toBe(true);
    // The uv stand-in was not on PATH: no new uv calls.
    expect(readFileSync(log, "utf8").trim().split("\n")).toHaveLength(2);
  }, 300_000);
});
