// The SessionStore contract as one suite: every store (memory, Redis) must pass it unchanged.
import { type SessionStore, SnakepitError } from "@snakepit/pool";
import { afterEach, describe, expect, it } from "vitest";

/** Makes a fresh store with the given idle TTL; the suite closes it after each test. */
export type StoreFactory = (options: { ttlMs: number }) => Promise<SessionStore> | SessionStore;

/** The `SnakepitError` code an operation fails with. */
async function codeOf(operation: () => unknown): Promise<string> {
  try {
    await operation();
  } catch (err) {
    expect(err).toBeInstanceOf(SnakepitError);
    return (err as SnakepitError).code;
  }
  throw new Error("expected the operation to fail");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Point {
  x = 1;
}
const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;

export function describeSessionStoreContract(name: string, make: StoreFactory): void {
  describe(`SessionStore contract: ${name}`, () => {
    const stores: SessionStore[] = [];
    async function store(ttlMs = 60_000): Promise<SessionStore> {
      const s = await make({ ttlMs });
      stores.push(s);
      return s;
    }
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });

    it("an unknown session reads as version 0 with no values", async () => {
      const s = await store();
      expect(await s.get("nobody", [])).toEqual({ version: 0, values: {} });
      expect(await s.get("nobody", ["a"])).toEqual({ version: 0, values: {} });
      expect(await s.version("nobody")).toBe(0);
      expect(await s.touch("nobody")).toBe(false);
      expect(await s.delete("nobody", ["a"])).toBe(0);
      expect(await s.set("nobody", {})).toBe(0);
      expect(await s.version("nobody")).toBe(0);
    });

    it("writes give a new, higher version; reads return it with the values", async () => {
      const s = await store();
      const v1 = await s.set("s", { a: 1, b: "two" });
      expect(v1).toBeGreaterThan(0);
      expect(Number.isSafeInteger(v1)).toBe(true);
      expect(await s.get("s", [])).toEqual({ version: v1, values: { a: 1, b: "two" } });
      expect(await s.get("s", ["a", "missing"])).toEqual({ version: v1, values: { a: 1 } });
      const v2 = await s.set("s", { a: 3 });
      expect(v2).toBeGreaterThan(v1);
      expect(await s.get("s", [])).toEqual({ version: v2, values: { a: 3, b: "two" } });
      const v3 = await s.delete("s", ["a"]);
      expect(v3).toBeGreaterThan(v2);
      expect(await s.get("s", [])).toEqual({ version: v3, values: { b: "two" } });
      expect(await s.version("s")).toBe(v3);
      expect(await s.touch("s")).toBe(true);
      expect(await s.get("other", [])).toEqual({ version: 0, values: {} });
    });

    it("a conditional write at the current version wins; at a stale one it fails with SESSION_CONFLICT and writes nothing", async () => {
      const s = await store();
      expect(await codeOf(() => s.set("s", { a: 1 }, { ifVersion: 5 }))).toBe("SESSION_CONFLICT");
      const v1 = await s.set("s", { a: 1 }, { ifVersion: 0 });
      expect(await codeOf(() => s.set("s", { a: 2 }, { ifVersion: 0 }))).toBe("SESSION_CONFLICT");
      const v2 = await s.set("s", { a: 2 }, { ifVersion: v1 });
      let err: unknown;
      try {
        await s.set("s", { a: 99 }, { ifVersion: v1 });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: "SESSION_CONFLICT", details: { version: v2 } });
      expect(await codeOf(() => s.delete("s", ["a"], { ifVersion: v1 }))).toBe("SESSION_CONFLICT");
      expect(await s.get("s", ["a"])).toEqual({ version: v2, values: { a: 2 } });
      expect(await s.delete("s", ["a"], { ifVersion: v2 })).toBeGreaterThan(v2);
    });

    it("concurrent read-modify-writes with ifVersion and retries lose no update", async () => {
      const s = await store();
      async function increment(): Promise<void> {
        for (;;) {
          const { version, values } = await s.get("counter", ["n"]);
          try {
            await s.set("counter", { n: ((values.n as number) ?? 0) + 1 }, { ifVersion: version });
            return;
          } catch (err) {
            if ((err as SnakepitError).code !== "SESSION_CONFLICT") throw err;
          }
        }
      }
      await Promise.all(Array.from({ length: 50 }, increment));
      expect((await s.get("counter", ["n"])).values.n).toBe(50);
    });

    it("values come back equal: JSON data, unicode, null, and bytes as a Buffer", async () => {
      const s = await store();
      const values = {
        nested: { list: [1, 2.5, "x", null, true, { deep: [[]] }], empty: {} },
        unicode: "żółw 🐍 \u0000 end",
        nothing: null,
        bytes: Buffer.from([0, 1, 2, 255]),
        "key with spaces/and:colons": 0,
      };
      await s.set("values", values);
      const { values: back } = await s.get("values", []);
      expect(back).toEqual(values);
      expect(Buffer.isBuffer(back.bytes)).toBe(true);
    });

    it.each([
      ["undefined", undefined],
      ["a function", () => 1],
      ["a BigInt", 10n],
      ["NaN", Number.NaN],
      ["Infinity", Number.POSITIVE_INFINITY],
      ["a Date", new Date(0)],
      ["a Map", new Map([[1, 2]])],
      ["a class instance", new Point()],
      ["a cycle", cyclic],
      ["bytes nested in JSON", { b: new Uint8Array(2) }],
      ["a symbol", Symbol("s")],
    ])(
      "a value that cannot be stored (%s) fails with INVALID_ARGUMENTS and writes nothing",
      async (_, value) => {
        const s = await store();
        expect(await codeOf(() => s.set("s", { ok: 1, bad: value }))).toBe("INVALID_ARGUMENTS");
        expect(await s.get("s", [])).toEqual({ version: 0, values: {} });
      },
    );

    it.each([
      ["empty", ""],
      ["too long", "x".repeat(257)],
      ["a number", 42],
      ["null", null],
      ["undefined", undefined],
      ["an object", { id: "s" }],
      ["with a newline", "a\nb"],
    ])("a session id that is %s fails with INVALID_ARGUMENTS on every operation", async (_, id) => {
      const s = await store();
      const bad = id as string;
      for (const operation of [
        () => s.get(bad, []),
        () => s.version(bad),
        () => s.set(bad, { a: 1 }),
        () => s.delete(bad, ["a"]),
        () => s.touch(bad),
        () => s.clear(bad),
      ]) {
        expect(await codeOf(operation)).toBe("INVALID_ARGUMENTS");
      }
    });

    it("a session id of 256 characters and keys of any text are fine; an empty or long key is not", async () => {
      const s = await store();
      const id = "é".repeat(256);
      await s.set(id, { "ключ 🔑": 1 });
      expect((await s.get(id, ["ключ 🔑"])).values).toEqual({ "ключ 🔑": 1 });
      expect(await codeOf(() => s.set(id, { "": 1 }))).toBe("INVALID_ARGUMENTS");
      expect(await codeOf(() => s.get(id, ["k".repeat(1025)]))).toBe("INVALID_ARGUMENTS");
    });

    it("clear drops a session; a new one under the same id never repeats an old version", async () => {
      const s = await store();
      let last = 0;
      for (let i = 0; i < 5; i++) last = await s.set("s", { i });
      await s.clear("s");
      expect(await s.get("s", [])).toEqual({ version: 0, values: {} });
      expect(await s.set("s", { i: 0 })).toBeGreaterThan(last);
    });

    it("the idle TTL slides with every operation and expires an idle session", async () => {
      const s = await store(2000);
      await s.set("kept", { a: 1 });
      await s.set("idle", { a: 1 });
      // Kept busy for 1.5 TTLs by touches, reads and writes; "idle" is left alone. (Each gap is
      // an eighth of the TTL, so a loaded machine's slow operation does not expire it.)
      const ops = [
        () => s.touch("kept"),
        () => s.get("kept", ["a"]),
        () => s.version("kept"),
        () => s.set("kept", { b: 2 }),
      ];
      for (let i = 0; i < 12; i++) {
        await sleep(250);
        await (ops[i % ops.length] as () => Promise<unknown>)();
      }
      expect((await s.get("kept", ["a"])).values).toEqual({ a: 1 });
      expect(await s.version("idle")).toBe(0);
      // Every look slides the TTL too: so look once, after 2.5 idle TTLs.
      await sleep(5000);
      expect(await s.version("kept")).toBe(0);
    });
  });
}
