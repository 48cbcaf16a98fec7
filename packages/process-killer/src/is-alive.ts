import { expectPid } from "./process-identity.js";
import { isLiveEntry, readProcessEntry } from "./process-table.js";

/**
 * True when a process with this pid exists and is not a zombie. `kill(pid, 0)` alone says a
 * zombie is alive, and under a lazy PID 1 (containers) killed orphans stay zombies for a long
 * time, so Linux reads the state from `/proc` and macOS from `ps`. On Windows, `kill(pid, 0)`.
 */
export function isAlive(pid: number): boolean {
  expectPid("pid", pid);
  if (process.platform === "win32") {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  return isLiveEntry(readProcessEntry(pid));
}
