import { describe, expect, it } from "vitest";
import { HeldCalls } from "./held-calls.js";

const item = (n: number) => ({ n, heldAt: -1 });

describe("HeldCalls", () => {
  it("adds, finds and deletes in any order, as a Set does (random operations against a Set)", () => {
    const list = new HeldCalls<ReturnType<typeof item>>();
    const model = new Set<ReturnType<typeof item>>();
    const pool = Array.from({ length: 40 }, (_, n) => item(n));
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let step = 0; step < 5000; step++) {
      const x = pool[next() % pool.length] as ReturnType<typeof item>;
      if (next() % 2 === 0) {
        list.add(x);
        model.add(x);
      } else expect(list.delete(x)).toBe(model.delete(x));
      expect(list.size).toBe(model.size);
      expect(list.has(x)).toBe(model.has(x));
    }
    expect(new Set(list)).toEqual(model);
    for (const x of pool) expect(list.has(x)).toBe(model.has(x));
  });

  it("adds an item once, and a deleted item is no longer held anywhere", () => {
    const list = new HeldCalls<ReturnType<typeof item>>();
    const a = item(1);
    list.add(a);
    list.add(a);
    expect(list.size).toBe(1);
    expect(list.delete(a)).toBe(true);
    expect(a.heldAt).toBe(-1);
    expect(list.delete(a)).toBe(false);
    expect(list.size).toBe(0);
  });

  it("does not mistake another list's item for its own", () => {
    const one = new HeldCalls<ReturnType<typeof item>>();
    const two = new HeldCalls<ReturnType<typeof item>>();
    const a = item(1);
    const b = item(2);
    one.add(a);
    two.add(b);
    expect(one.has(b)).toBe(false);
    expect(one.delete(b)).toBe(false);
    expect(two.has(b)).toBe(true);
  });

  it("lets a loop over it delete what it visits (it walks a copy)", () => {
    const list = new HeldCalls<ReturnType<typeof item>>();
    const items = [item(1), item(2), item(3), item(4)];
    for (const x of items) list.add(x);
    const seen: number[] = [];
    for (const x of list) {
      seen.push(x.n);
      list.delete(x);
    }
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
    expect(list.size).toBe(0);
  });
});
