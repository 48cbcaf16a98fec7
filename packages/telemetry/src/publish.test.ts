import { describe, expect, it } from "vitest";
import { eventNames, subscribe } from "./index.js";
import { hasSubscribers, publish } from "./internal.js";

describe("event catalogue", () => {
  it("has unique names in the snakepit: namespace", () => {
    expect(new Set(eventNames).size).toBe(eventNames.length);
    for (const name of eventNames) expect(name).toMatch(/^snakepit:[a-z]+:[a-z_]+$/);
  });

  it("delivers typed payloads to subscribers, and builds lazy payloads only for them", () => {
    let built = 0;
    const lazy = () => {
      built++;
      return { pool: "p", workerId: "w", pid: 1 };
    };
    publish("snakepit:worker:spawned", lazy);
    expect(built).toBe(0);
    const seen: unknown[] = [];
    const off = subscribe("snakepit:worker:spawned", (p) => seen.push(p.pid));
    expect(hasSubscribers("snakepit:worker:spawned")).toBe(true);
    publish("snakepit:worker:spawned", lazy);
    off();
    publish("snakepit:worker:spawned", lazy);
    expect(seen).toEqual([1]);
    expect(built).toBe(1);
  });
});
