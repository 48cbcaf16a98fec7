import { isSnakepitError } from "@snakepit/errors";
import { describe, expect, it } from "vitest";
import { createWorkerTable } from "./index.js";

describe("createWorkerTable", () => {
  it("adds, updates, lists, counts and removes workers", () => {
    const table = createWorkerTable();
    const added = table.add({ workerId: "a", poolName: "p1", state: "starting", startedAt: 5 });
    expect(added).toEqual({
      workerId: "a",
      poolName: "p1",
      state: "starting",
      startedAt: 5,
      callsServed: 0,
      inFlight: 0,
    });
    table.add({ workerId: "b", poolName: "p1", state: "idle" });
    table.add({ workerId: "c", poolName: "p2", state: "idle" });
    expect(table.update("a", { state: "busy", pid: 42, inFlight: 1 })).toMatchObject({
      state: "busy",
      pid: 42,
      startedAt: 5,
    });
    expect(table.list({ state: "idle" }).map((w) => w.workerId)).toEqual(["b", "c"]);
    expect(table.list({ poolName: "p1" }).map((w) => w.workerId)).toEqual(["a", "b"]);
    expect(table.countByState()).toEqual({ busy: 1, idle: 2 });
    expect(table.countByState("p1")).toEqual({ busy: 1, idle: 1 });
    expect(table.remove("b")).toBe(true);
    expect(table.remove("b")).toBe(false);
    expect(table.size).toBe(2);
  });

  it("hands out frozen snapshots; identity fields cannot be patched", () => {
    const table = createWorkerTable();
    const entry = table.add({ workerId: "a", poolName: "p", state: "idle" });
    expect(Object.isFrozen(entry)).toBe(true);
    table.update("a", { workerId: "z", poolName: "q" } as never);
    expect(table.get("a")).toMatchObject({ workerId: "a", poolName: "p" });
    expect(entry.state).toBe("idle");
  });

  it("rejects a duplicate id and an unknown id with INVALID_OPTIONS", () => {
    const table = createWorkerTable<"up" | "down">();
    table.add({ workerId: "a", poolName: "p", state: "up" });
    for (const call of [
      () => table.add({ workerId: "a", poolName: "p", state: "down" }),
      () => table.update("b", { state: "down" }),
    ]) {
      try {
        call();
        expect.unreachable();
      } catch (err) {
        expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
      }
    }
  });
});
