import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/", import.meta.url));

/** A running `test/fixtures/host.mjs` and what it printed. */
export interface Host {
  readonly child: ChildProcess;
  readonly runId: string;
  readonly pid: number;
  readonly workers: number[];
  readonly exited: Promise<unknown>;
}

/** Starts a real host process that registers `count` fixture workers (see host.mjs). */
export async function startHost(
  dataDir: string,
  count: number,
  mode: "active" | "crash-before-activate" = "active",
): Promise<Host> {
  const child = spawn(process.execPath, [`${FIXTURES}host.mjs`, dataDir, mode, String(count)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  let text = "";
  child.stdout?.setEncoding("utf8");
  for await (const chunk of child.stdout ?? []) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  const { runId, host, workers } = JSON.parse(text);
  return { child, runId, pid: host, workers, exited };
}

/**
 * Starts `test/fixtures/worker.mjs` directly (an unrelated process, or one with given argv and
 * extra environment).
 */
export function startWorker(
  args: string[] = [],
  env: Record<string, string> = {},
): ChildProcess & { pid: number } {
  const child = spawn(process.execPath, [`${FIXTURES}worker.mjs`, ...args], {
    stdio: "ignore",
    env: { ...process.env, ...env },
  });
  if (child.pid === undefined) throw new Error("could not spawn worker.mjs");
  return child as ChildProcess & { pid: number };
}

/** A fresh `snakepit-registry-*` temp directory; remove it with {@link removeDir}. */
export function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "snakepit-registry-"));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** SIGKILLs every pid given (ignoring the gone ones): cleanup after a failed assertion. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
