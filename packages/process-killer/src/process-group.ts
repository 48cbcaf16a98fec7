import { isLiveEntry, listProcessEntries, readProcessEntry } from "./process-table.js";

/**
 * True while any non-zombie process belongs to group `pgid`. `kill(-pgid, 0)` answers "none"
 * cheaply; when it says "some", the members may all be zombies, so the table is scanned.
 */
export function groupIsAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    // ESRCH: no member at all. EPERM: members exist but are not ours; scan to be sure.
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  return listProcessEntries().some((e) => e.pgid === pgid && isLiveEntry(e));
}

/** The process group of the current process, which a group kill must never target. */
export function ownProcessGroup(): number | undefined {
  return readProcessEntry(process.pid)?.pgid;
}
