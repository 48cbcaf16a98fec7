import { expectString } from "@snakepit/errors/internal";
import { argvHasMarker } from "./marker-match.js";
import { type ProcessIdentity, toIdentity } from "./process-identity.js";
import { isLiveEntry, listProcessEntries } from "./process-table.js";

/**
 * Every live process (zombies excluded, the current process excluded) whose argv holds the
 * whitespace-separated tokens of `marker` consecutively, e.g. `--snakepit-run-id k3x9a2p`.
 * The identities carry the marker, so {@link verifyIdentity} re-checks it. Linux and macOS.
 */
export function findProcessesByMarker(marker: string): ProcessIdentity[] {
  expectString("marker", marker);
  return listProcessEntries()
    .filter((e) => e.pid !== process.pid && isLiveEntry(e) && argvHasMarker(e.argv, marker))
    .map((e) => toIdentity(e, marker));
}
