// Python modules planted in the working directory are never imported by a pool's processes (the
// environment probe, workers, the fork server, the watchdog). Runs in the pool's start mode.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { echoAdapter, usePool } from "./pool-test-helpers.test-helper.js";

// `-m` puts the working directory first on sys.path: each of these would shadow the real one.
const planted = ["grpc", "snakepit_bridge", "runpy", "json"];

let dir: string | undefined;
const hostCwd = process.cwd();
afterEach(() => {
  process.chdir(hostCwd);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A directory of modules that, once imported, leave a `<name>.imported` marker and fail. */
function plantedDirectory(): string {
  dir = mkdtempSync(join(tmpdir(), "planted-"));
  for (const name of planted) {
    const marker = JSON.stringify(join(dir, `${name}.imported`));
    writeFileSync(
      join(dir, `${name}.py`),
      `open(${marker}, "w").close()\nraise ImportError("planted ${name}.py was imported")\n`,
    );
  }
  return dir;
}

function imported(directory: string): string[] {
  return readdirSync(directory).filter((f) => f.endsWith(".imported"));
}

describe("modules planted in the working directory", () => {
  it("the pool's `cwd`: workers (and the fork server and watchdog) start and serve, importing none", async () => {
    const cwd = plantedDirectory();
    const pool = usePool({ adapter: echoAdapter, size: 2, cwd, lifelines: { watchdog: true } });
    await pool.ready();
    expect(await pool.execute("add", { a: 2, b: 3 })).toBe(5);
    await pool.close();
    expect(imported(cwd)).toEqual([]);
  });

  it("the host's own working directory: the environment probe and the workers import none", async () => {
    const cwd = plantedDirectory();
    process.chdir(cwd);
    const pool = usePool({ adapter: echoAdapter, size: 1 });
    await pool.ready();
    expect(await pool.execute("echo", { value: "safe" })).toBe("safe");
    await pool.close();
    expect(imported(cwd)).toEqual([]);
    expect(existsSync(join(cwd, "grpc.py"))).toBe(true);
  });
});
