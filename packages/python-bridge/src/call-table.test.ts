import { describe, expect, it } from "vitest";
import { CallTable } from "./call-table.js";

interface Entry {
  readonly id: number;
}

function open(table: CallTable<Entry>): Entry {
  const call = { id: table.nextId() };
  table.add(call);
  return call;
}

describe("CallTable", () => {
  it("hands out ids in order from 1, and finds, holds and forgets calls by them", () => {
    const table = new CallTable<Entry>();
    const [a, b] = [open(table), open(table)];
    expect([a.id, b.id]).toEqual([1, 2]);
    expect(table.get(2)).toBe(b);
    expect(table.get(3)).toBeUndefined();
    expect(table.includes(a)).toBe(true);
    expect(table.delete(a)).toBe(true);
    expect(table.delete(a)).toBe(false);
    expect(table.includes(a)).toBe(false);
    expect(table.get(1)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it("skips an id whose slot a longer call still holds", () => {
    const table = new CallTable<Entry>();
    const long = open(table); // id 1, slot 1 of 64
    for (let i = 2; i <= 64; i++) table.delete(open(table));
    expect(table.nextId()).toBe(66); // 65 would share slot 1
    expect(table.get(65)).toBeUndefined(); // same slot, other id
    expect(table.get(1)).toBe(long);
  });

  it("grows when half full and still finds every call", () => {
    const table = new CallTable<Entry>();
    const held = Array.from({ length: 1000 }, () => open(table));
    expect(new Set(held.map((c) => c.id)).size).toBe(1000);
    for (const call of held) expect(table.get(call.id)).toBe(call);
    expect(table.size).toBe(1000);
  });

  it("wraps from 2^32 - 1 to 1, never 0, and ids past 2^31 find their calls", () => {
    const table = new CallTable<Entry>(0xffffffff - 2);
    const ids = Array.from({ length: 4 }, () => open(table).id);
    expect(ids).toEqual([0xffffffff - 1, 0xffffffff, 1, 2]);
    for (const id of ids) expect(table.get(id)?.id).toBe(id);
  });

  it("agrees with a Map under random opening and closing", () => {
    const table = new CallTable<Entry>(0xffffff00);
    const model = new Map<number, Entry>();
    const live: Entry[] = [];
    let seed = 11;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let step = 0; step < 20_000; step++) {
      if (next() % 2 === 0 || live.length === 0) {
        const call = open(table);
        expect(model.has(call.id)).toBe(false);
        model.set(call.id, call);
        live.push(call);
      } else {
        const at = next() % live.length;
        const call = live[at] as Entry;
        live[at] = live[live.length - 1] as Entry;
        live.pop();
        expect(table.delete(call)).toBe(true);
        model.delete(call.id);
      }
      expect(table.size).toBe(model.size);
    }
    for (const [id, call] of model) expect(table.get(id)).toBe(call);
    expect(new Set(table.values())).toEqual(new Set(model.values()));
  });

  it("lets a walk over values() delete what it visits", () => {
    const table = new CallTable<Entry>();
    for (let i = 0; i < 10; i++) open(table);
    for (const call of table.values()) table.delete(call);
    expect(table.size).toBe(0);
  });
});
