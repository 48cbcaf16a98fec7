/** One process as seen in a process table snapshot. */
export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Process group id. */
  readonly pgid: number;
  /** True for a zombie: it holds no memory and is not counted. */
  readonly zombie: boolean;
}

/**
 * The pids to measure for `root`: the root, and with `includeChildren` every descendant (by
 * parent pid) plus, when the root leads its own process group, every member of that group (so
 * grandchildren re-parented to init after their parent died still count). Group members are
 * not added when the root shares its parent's group: that group holds the host too. Zombies are
 * skipped. Returns `undefined` when the root is absent or a zombie.
 */
export function processTree(
  entries: readonly ProcessEntry[],
  root: number,
  includeChildren: boolean,
): number[] | undefined {
  const byPid = new Map(entries.map((e) => [e.pid, e]));
  const rootEntry = byPid.get(root);
  if (rootEntry === undefined || rootEntry.zombie) return undefined;
  if (!includeChildren) return [root];
  const children = new Map<number, number[]>();
  for (const e of entries) {
    const list = children.get(e.ppid);
    if (list === undefined) children.set(e.ppid, [e.pid]);
    else list.push(e.pid);
  }
  const found = new Set<number>([root]);
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      if (!found.has(child)) {
        found.add(child);
        queue.push(child);
      }
    }
  }
  if (rootEntry.pgid === root) {
    for (const e of entries) if (e.pgid === root) found.add(e.pid);
  }
  return [...found].filter((pid) => byPid.get(pid)?.zombie === false);
}
