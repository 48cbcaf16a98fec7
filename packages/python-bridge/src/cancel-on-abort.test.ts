import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { cancelOnAbort } from "./cancel-on-abort.js";

describe("cancelOnAbort", () => {
  it("runs every registered cancel once on abort, through one listener, and skips unregistered ones", () => {
    const controller = new AbortController();
    const ran: number[] = [];
    const stops = [0, 1, 2].map((i) => cancelOnAbort(controller.signal, () => ran.push(i)));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    stops[1]?.();
    controller.abort();
    controller.abort();
    expect(ran).toEqual([0, 2]);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("keeps signals apart", () => {
    const a = new AbortController();
    const b = new AbortController();
    const ran: string[] = [];
    cancelOnAbort(a.signal, () => ran.push("a"));
    cancelOnAbort(b.signal, () => ran.push("b"));
    b.abort();
    expect(ran).toEqual(["b"]);
  });
});
