import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { isRunning, waitFor } from "@snakepit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { sampleMemory, sampleMemoryFromPs } from "./sample-memory.js";

const MiB = 1024 * 1024;
const fixture = fileURLToPath(new URL("../test/fixtures/hold-memory.py", import.meta.url));
const spawned: ChildProcess[] = [];

/** Starts hold-memory.py and waits for "ready"; `detached` makes it lead its own group. */
async function hold(args: string[], detached: boolean): Promise<number> {
  const child = spawn("python3", [fixture, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    detached,
  });
  spawned.push(child);
  const [line] = (await once(child.stdout ?? child, "data")) as [Buffer];
  expect(line.toString()).toContain("ready");
  if (child.pid === undefined) throw new Error("no pid");
  return child.pid;
}

/** Every pid whose parent is `pid` (the fixture's own child). */
async function childOf(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
  return Number(text.trim().split(" ")[0]);
}

afterEach(async () => {
  for (const child of spawned.splice(0)) {
    const pid = child.pid;
    if (pid === undefined) continue;
    const grandchild = await childOf(pid).catch(() => undefined);
    const exited =
      child.exitCode !== null || child.signalCode !== null ? undefined : once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    if (grandchild !== undefined && grandchild > 0) {
      try {
        process.kill(grandchild, "SIGKILL");
      } catch {
        // already gone
      }
      await waitFor(() => !isRunning(grandchild), { timeoutMs: 5000 });
    }
  }
});

describe("sampleMemory (real processes)", () => {
  it("sees 60 MiB held by a process", async () => {
    const pid = await hold(["60"], false);
    const sample = await sampleMemory(pid);
    expect(sample).toMatchObject({ pid, kind: "rss", processes: 1 });
    expect(sample?.bytes).toBeGreaterThan(60 * MiB);
    expect(sample?.bytes).toBeLessThan(120 * MiB);
    expect(Math.abs((sample?.sampledAt ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it("reads PSS from smaps_rollup when asked", async () => {
    const pid = await hold(["60"], false);
    const sample = await sampleMemory(pid, { kind: "pss" });
    expect(sample?.kind).toBe("pss");
    expect(sample?.bytes).toBeGreaterThan(60 * MiB);
  });

  it.each([
    ["not leading a group (children found by parent pid)", false],
    ["leading its own process group", true],
  ])(
    "measures a parent whose child holds 60 MiB with and without the child: %s",
    async (_t, detached) => {
      const pid = await hold(["0", "--child", "60"], detached);
      const withChild = await sampleMemory(pid);
      const alone = await sampleMemory(pid, { includeChildren: false });
      expect(withChild?.processes).toBe(2);
      expect(withChild?.bytes).toBeGreaterThan(60 * MiB);
      expect(alone?.processes).toBe(1);
      expect(alone?.bytes).toBeLessThan(40 * MiB);
      expect((withChild?.bytes ?? 0) - (alone?.bytes ?? 0)).toBeGreaterThan(60 * MiB);
    },
  );

  it("the ps fallback sees the child too", async () => {
    const pid = await hold(["0", "--child", "60"], false);
    const sample = await sampleMemoryFromPs(pid, true);
    expect(sample).toMatchObject({ pid, kind: "rss", processes: 2 });
    expect(sample?.bytes).toBeGreaterThan(60 * MiB);
    expect(await sampleMemoryFromPs(pid, false)).toMatchObject({ processes: 1 });
  });

  it("resolves undefined for a process that is gone", async () => {
    const child = spawn("python3", ["-c", "pass"], { stdio: "ignore" });
    await once(child, "exit");
    expect(child.pid).toBeDefined();
    expect(await sampleMemory(child.pid ?? 0)).toBeUndefined();
    expect(await sampleMemoryFromPs(child.pid ?? 0, true)).toBeUndefined();
  });

  it("rejects bad options and an aborted signal with codes", async () => {
    await expect(sampleMemory(0)).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(sampleMemory(process.pid, { kind: "uss" as never })).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
      details: { option: "sampleMemory.kind" },
    });
    await expect(sampleMemory(process.pid, { children: true } as never)).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
    });
    await expect(sampleMemory(process.pid, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: "ABORTED",
    });
  });
});

describe("sampleMemory (concurrent)", () => {
  it("gives concurrent samples the same answer as sequential ones (one shared /proc scan)", async () => {
    const [a, b] = await Promise.all([sampleMemory(process.pid), sampleMemory(process.ppid)]);
    expect(a?.pid).toBe(process.pid);
    expect(b?.pid).toBe(process.ppid);
    expect(b?.processes).toBeGreaterThan(a?.processes ?? 0);
  });
});
