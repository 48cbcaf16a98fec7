import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killWithEscalation } from "@snakepit/process-killer";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  bridgePythonDir,
  createPrivateDirectory,
  type PrivateDirectory,
  resolvePythonEnvironment,
  spawnWorker,
  type WorkerProcess,
} from "./index.js";
import { PROTOCOL_VERSION } from "./protocol-version.js";

// A user's own copy of the bridge: `pip install` of the package's python folder (into a
// --target directory on PYTHONPATH here, so the repository's venv stays untouched), built from
// a copy whose version (and, for the second, protocol) we change so we can tell it apart.
const python = process.env.SNAKEPIT_PYTHON ?? "python3";
const echoAdapter = `${new URL("../test/fixtures/echo_adapter.py", import.meta.url).pathname}:EchoAdapter`;
let root: string;
let site: string;
let siteOtherProtocol: string;

/** Rewrites `NAME = value` in whichever module of the package defines it (layout-proof). */
function rewrite(pkg: string, pattern: RegExp, replacement: string): void {
  for (const entry of readdirSync(pkg, { recursive: true, encoding: "utf8" })) {
    if (!entry.endsWith(".py") || entry.includes("gen/")) continue;
    const file = join(pkg, entry);
    const text = readFileSync(file, "utf8");
    if (!pattern.test(text)) continue;
    writeFileSync(file, text.replace(pattern, replacement));
    return;
  }
  throw new Error(`nothing matches ${pattern} in ${pkg}`);
}

function pipInstall(name: string, edit: (pkg: string) => void): string {
  const src = join(root, `${name}-src`);
  cpSync(join(bridgePythonDir, "pyproject.toml"), join(src, "pyproject.toml"));
  cpSync(join(bridgePythonDir, "snakepit_bridge"), join(src, "snakepit_bridge"), {
    recursive: true,
    filter: (p) => !p.includes("__pycache__"),
  });
  edit(join(src, "snakepit_bridge"));
  const target = join(root, name);
  execFileSync(
    python,
    ["-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", target, src],
    { stdio: "pipe", env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" } },
  );
  return target;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "snakepit-byo-"));
  site = pipInstall("site", (pkg) =>
    rewrite(pkg, /^__version__ = .*$/m, '__version__ = "0.1.0+byo"'),
  );
  siteOtherProtocol = pipInstall("site-next", (pkg) => {
    rewrite(pkg, /^__version__ = .*$/m, '__version__ = "9.0.0"');
    rewrite(pkg, /^PROTOCOL_VERSION = .*$/m, `PROTOCOL_VERSION = ${PROTOCOL_VERSION + 1}`);
  });
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dir: PrivateDirectory | undefined;
const workers: WorkerProcess[] = [];
const savedPath = process.env.PYTHONPATH;
afterEach(async () => {
  for (const w of workers.splice(0)) {
    await killWithEscalation(w.pid, { firstSignal: "SIGKILL", graceMs: 0, exited: w.exited });
    w.client.close();
  }
  await dir?.remove();
  dir = undefined;
  if (savedPath === undefined) delete process.env.PYTHONPATH;
  else process.env.PYTHONPATH = savedPath;
});

async function start(): Promise<WorkerProcess> {
  dir ??= await createPrivateDirectory();
  const worker = await spawnWorker({
    pythonExecutable: python,
    adapter: echoAdapter,
    workerId: "w1",
    runId: "byorun",
    listen: dir.socketAddress("w1.sock"),
  });
  workers.push(worker);
  return worker;
}

describe("bring your own snakepit_bridge", () => {
  it("without one installed, workers run the copy bundled with the package", async () => {
    const env = await resolvePythonEnvironment({ pythonExecutable: python });
    expect(env.bridge).toMatchObject({
      source: "bundled",
      path: join(bridgePythonDir, "snakepit_bridge"),
    });
  });

  it("an installed copy wins over the bundled one, and workers import it", async () => {
    process.env.PYTHONPATH = site;
    const env = await resolvePythonEnvironment({ pythonExecutable: python });
    expect(env.bridge).toEqual({
      source: "installed",
      version: "0.1.0+byo",
      path: join(site, "snakepit_bridge"),
    });
    const worker = await start();
    expect(await worker.client.execute("add", { a: 40, b: 2 })).toMatchObject({ value: 42 });
    const environ = readFileSync(`/proc/${worker.pid}/environ`, "utf8").split("\0");
    expect(environ).toContain(`PYTHONPATH=${site}`);
    expect(environ).toContain(`SNAKEPIT_PROTOCOL=${PROTOCOL_VERSION}`);
  });

  it("an installed copy of another protocol version fails the start with PROTOCOL_VERSION_MISMATCH, naming both versions and the fix", async () => {
    process.env.PYTHONPATH = siteOtherProtocol;
    const env = await resolvePythonEnvironment({ pythonExecutable: python });
    expect(env.bridge).toMatchObject({ source: "installed", version: "9.0.0" });
    const err = await start().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "PROTOCOL_VERSION_MISMATCH",
      details: { hostProtocol: PROTOCOL_VERSION, workerProtocol: PROTOCOL_VERSION + 1 },
    });
    const message = (err as Error).message;
    expect(message).toContain(
      `snakepit_bridge 9.0.0 at ${join(siteOtherProtocol, "snakepit_bridge")}`,
    );
    expect(message).toContain(`speaks protocol ${PROTOCOL_VERSION + 1}`);
    expect(message).toContain(`this @snakepit/python-bridge speaks protocol ${PROTOCOL_VERSION}`);
    expect(message).toContain("pip uninstall snakepit-bridge");
  });
});
