import { describe, expect, it } from "vitest";
import { type ProcessEntry, processTree } from "./process-tree.js";

// 1 init; 100 host (group 100); 200 worker leading group 200; 201 its child; 202 grandchild;
// 203 re-parented to init but still in group 200; 204 zombie child; 300 unrelated in host's group
const table: ProcessEntry[] = [
  { pid: 1, ppid: 0, pgid: 1, zombie: false },
  { pid: 100, ppid: 1, pgid: 100, zombie: false },
  { pid: 200, ppid: 100, pgid: 200, zombie: false },
  { pid: 201, ppid: 200, pgid: 200, zombie: false },
  { pid: 202, ppid: 201, pgid: 200, zombie: false },
  { pid: 203, ppid: 1, pgid: 200, zombie: false },
  { pid: 204, ppid: 200, pgid: 200, zombie: true },
  { pid: 300, ppid: 100, pgid: 100, zombie: false },
  { pid: 301, ppid: 300, pgid: 100, zombie: false },
];

describe("processTree", () => {
  it.each<[string, number, boolean, number[] | undefined]>([
    [
      "group leader: descendants plus re-parented group members, no zombies",
      200,
      true,
      [200, 201, 202, 203],
    ],
    ["without children: the root only", 200, false, [200]],
    ["not a group leader: descendants only, never the host's group", 300, true, [300, 301]],
    ["gone", 999, true, undefined],
    ["zombie root", 204, true, undefined],
  ])("%s", (_t, root, includeChildren, expected) => {
    expect(processTree(table, root, includeChildren)?.sort()).toEqual(expected);
  });
});
