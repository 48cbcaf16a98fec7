import { execFile } from "node:child_process";
import { SnakepitError } from "@snakepit/errors";
import type { KillOutcome } from "./kill-outcome.js";
import { waitUntil } from "./wait-until.js";

function windowsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The Windows path: there is no SIGTERM to escalate from (console programs ignore the
 * `WM_CLOSE` that `taskkill` without `/F` sends), so the whole tree goes at once with
 * `taskkill /PID <pid> /T /F`, then we wait until the pid is gone. Untested in CI.
 */
export async function killOnWindows(
  pid: number,
  startedAt: number,
  waitMs: number,
  signal: AbortSignal,
): Promise<KillOutcome> {
  const elapsed = () => Math.round(performance.now() - startedAt);
  if (!windowsAlive(pid)) return { pid, reason: "already-dead", elapsedMs: elapsed() };
  await new Promise<void>((resolve, reject) => {
    execFile("taskkill", ["/PID", String(pid), "/T", "/F"], { signal }, (err) => {
      // taskkill exits 128 when the process vanished meanwhile; the wait below settles it.
      if (err !== null && signal.aborted) reject(signal.reason);
      else resolve();
    });
  });
  if (!(await waitUntil(() => !windowsAlive(pid), performance.now() + waitMs, signal))) {
    throw new SnakepitError("KILL_FAILED", `Process ${pid} is still alive after taskkill /F`, {
      details: { pid },
    });
  }
  return { pid, reason: "forced", elapsedMs: elapsed() };
}
