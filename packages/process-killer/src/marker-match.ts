/**
 * True when `argv` holds the whitespace-separated tokens of `marker` as consecutive elements:
 * `--snakepit-run-id k3x9a2p` matches `[..., "--snakepit-run-id", "k3x9a2p", ...]` but not
 * `k3x9a2pq`. Token matching, not substring matching, so one run id never matches a longer one.
 */
export function argvHasMarker(argv: readonly string[], marker: string): boolean {
  const tokens = marker.trim().split(/\s+/);
  if (tokens.length === 0 || tokens[0] === "") return false;
  for (let i = 0; i + tokens.length <= argv.length; i++) {
    if (tokens.every((token, j) => argv[i + j] === token)) return true;
  }
  return false;
}
