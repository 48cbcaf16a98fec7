import { readFileSync } from "node:fs";

/**
 * Whether `pid` is still running: present and not a zombie (a killed orphan under a lazy PID 1
 * stays in state `Z`, and `kill(pid, 0)` still succeeds for it).
 */
export function isProcessRunning(pid: number): boolean {
  try {
    const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return state !== undefined && state !== "Z";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    try {
      process.kill(pid, 0); // no /proc: the best this platform offers
      return true;
    } catch {
      return false;
    }
  }
}

/** Resolves once `pid` is no longer running, polling every `intervalMs` (timers unref'd). */
export async function waitUntilGone(pid: number, intervalMs = 20): Promise<void> {
  while (isProcessRunning(pid))
    await new Promise<void>((resolve) => setTimeout(resolve, intervalMs).unref());
}
