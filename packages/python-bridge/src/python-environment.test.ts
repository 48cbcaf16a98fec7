import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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

  it("creates a venv in the cache dir when nothing is configured, then reuses it", async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), "snakepit-venv-test-"));
    const saved = process.env.SNAKEPIT_PYTHON;
    delete process.env.SNAKEPIT_PYTHON;
    try {
      const progress: string[] = [];
      const created = await resolvePythonEnvironment({
        cacheDir,
        onProgress: (l) => progress.push(l),
      });
      expect(created.source).toBe("created-venv");
      expect(created.executable.startsWith(cacheDir)).toBe(true);
      expect(progress.some((l) => l.includes("creating a Python environment"))).toBe(true);
      const again = await resolvePythonEnvironment({
        cacheDir,
        createVenv: true,
        basePython: "python3",
      });
      expect(again).toMatchObject({ executable: created.executable, source: "cached-venv" });
    } finally {
      if (saved !== undefined) process.env.SNAKEPIT_PYTHON = saved;
      await rm(cacheDir, { recursive: true, force: true });
    }
  }, 180_000);
});
