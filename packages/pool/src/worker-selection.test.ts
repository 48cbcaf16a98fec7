import { describe, expect, it } from "vitest";
import type { AffinityMode } from "./pool-types.js";
import { mayRunOn, type SelectionView, selectWorker } from "./worker-selection.js";

/** Workers are names; `room` lists those with room, the one a new call takes first. */
function view(room: string[], sessions: Record<string, string> = {}): SelectionView<string> {
  return {
    sessionWorker: (id) => sessions[id],
    hasRoom: (w) => room.includes(w),
    nextWithRoom: () => room[0],
  };
}
const call = (sessionId?: string, affinity: AffinityMode = "hint") => ({ sessionId, affinity });

describe("selectWorker", () => {
  it("gives a call without a session the pool's next worker with room", () => {
    expect(selectWorker(call(), view(["b", "a"]))).toEqual({ kind: "run", worker: "b" });
  });

  it("makes a call wait when no worker has room", () => {
    expect(selectWorker(call(), view([]))).toEqual({ kind: "wait", preferred: undefined });
  });

  it.each<AffinityMode>(["hint", "strict-queue", "strict-fail-fast"])(
    "%s: a session goes to its own worker when that has room, even if another comes first",
    (mode) => {
      expect(selectWorker(call("s", mode), view(["a", "b"], { s: "b" }))).toEqual({
        kind: "run",
        worker: "b",
      });
    },
  );

  it.each<[AffinityMode, unknown]>([
    ["hint", { kind: "run", worker: "a" }],
    ["strict-queue", { kind: "wait", preferred: "b" }],
    ["strict-fail-fast", { kind: "busy", worker: "b" }],
  ])("%s: when the session's worker is busy → %j", (mode, expected) => {
    expect(selectWorker(call("s", mode), view(["a"], { s: "b" }))).toEqual(expected);
  });

  it("hint: waits preferring its own worker when nobody has room", () => {
    expect(selectWorker(call("s", "hint"), view([], { s: "b" }))).toEqual({
      kind: "wait",
      preferred: "b",
    });
  });

  it.each<AffinityMode>(["hint", "strict-queue", "strict-fail-fast"])(
    "%s: a session whose worker is gone takes any worker",
    (mode) => {
      expect(selectWorker(call("s", mode), view(["a"]))).toEqual({ kind: "run", worker: "a" });
    },
  );
});

describe("mayRunOn (a queued call, a worker with room)", () => {
  it.each<[AffinityMode, string, boolean]>([
    ["hint", "a", true],
    ["strict-queue", "a", false],
    ["strict-queue", "b", true],
    ["strict-fail-fast", "a", false],
  ])("%s on worker %s while the session's worker is b → %s", (mode, worker, expected) => {
    expect(mayRunOn(call("s", mode), worker, view([worker], { s: "b" }))).toBe(expected);
  });

  it("strict calls run anywhere once their worker is gone; calls without a session anywhere", () => {
    expect(mayRunOn(call("s", "strict-queue"), "a", view(["a"]))).toBe(true);
    expect(mayRunOn(call(undefined, "strict-queue"), "a", view(["a"], { s: "b" }))).toBe(true);
  });
});
