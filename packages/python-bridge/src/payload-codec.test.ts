import { describe, expect, it } from "vitest";
import { decodeArguments, decodePayload, encodeArguments, encodePayload } from "./payload-codec.js";

describe("payload codec", () => {
  it.each([
    ["an object", { a: 1, b: ["x", null] }],
    ["a string", "text"],
    ["a number", 3.5],
    ["null", null],
    ["a boolean", false],
  ])("round-trips %s through JSON", (_name, value) => {
    const payload = encodePayload(value);
    expect(payload.contentType).toBe("application/json");
    expect(decodePayload(payload)).toEqual(value);
  });

  it("sends bytes raw, not as base64 JSON", () => {
    const bytes = new Uint8Array([0, 255, 7]);
    const payload = encodePayload(bytes);
    expect(payload.contentType).toBe("application/octet-stream");
    expect(payload.data).toBe(bytes);
    expect(decodePayload(payload)).toEqual(Buffer.from([0, 255, 7]));
  });

  it("encodes undefined as an empty payload that decodes to null", () => {
    expect(encodePayload(undefined).contentType).toBe("");
    expect(decodePayload(encodePayload(undefined))).toBeNull();
  });

  it("splits binary keyword arguments from JSON ones", () => {
    const data = Buffer.from("raw");
    const args = encodeArguments({ name: "x", data });
    expect(Object.keys(args.binary)).toEqual(["data"]);
    expect(decodePayload(args.json)).toEqual({ name: "x" });
    expect(decodeArguments(args)).toEqual({ name: "x", data: Buffer.from("raw") });
  });

  it.each([
    ["an array", [1, 2]],
    ["a string", "x"],
  ])("rejects arguments that are %s with INVALID_ARGUMENTS", (_name, args) => {
    expect(() => encodeArguments(args as never)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENTS" }),
    );
  });

  it("rejects values JSON cannot encode", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodePayload(cyclic)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENTS" }),
    );
    expect(() => encodePayload(10n)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENTS" }),
    );
  });

  // Each of these used to be encoded silently as something else (null, {}, {"0": …}, dropped).
  it.each([
    ["NaN", { n: Number.NaN }, "args.n"],
    ["Infinity", { list: [1, Number.POSITIVE_INFINITY] }, "args.list[1]"],
    ["-Infinity", { a: { b: Number.NEGATIVE_INFINITY } }, "args.a.b"],
    ["a function", { items: [{}, {}, { when: () => 1 }] }, "args.items[2].when"],
    ["a Symbol", { s: Symbol("x") }, "args.s"],
    ["a BigInt", { "odd key": 10n }, 'args["odd key"]'],
    ["a Map", { m: new Map([["k", 1]]) }, "args.m"],
    ["a Set", { deep: [[new Set([1])]] }, "args.deep[0][0]"],
    ["a RegExp", { r: /x/ }, "args.r"],
    ["an Error", { e: new Error("x") }, "args.e"],
    ["an invalid Date", { d: new Date(Number.NaN) }, "args.d"],
    ["a nested Uint8Array", { file: { data: new Uint8Array([1, 2]) } }, "args.file.data"],
    ["a nested Buffer", { files: [Buffer.from("x")] }, "args.files[0]"],
    ["a top-level Float64Array", { f: new Float64Array([1]) }, "args.f"],
    ["a top-level ArrayBuffer", { f: new ArrayBuffer(2) }, "args.f"],
  ])("rejects %s with INVALID_ARGUMENTS naming its path", (_name, args, path) => {
    let error: unknown;
    try {
      encodeArguments(args as Record<string, unknown>);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: "INVALID_ARGUMENTS", details: { path } });
    expect((error as Error).message).toContain(`\`${path}\``);
  });

  it("names the root of a lossy top-level payload and reaches values behind toJSON()", () => {
    expect(() => encodePayload(Number.NaN, "result")).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENTS", details: { path: "result" } }),
    );
    const wrapped = { toJSON: () => ({ inner: [Symbol("s")] }) };
    expect(() => encodePayload({ w: wrapped })).toThrow(
      expect.objectContaining({ details: { path: "value.w.inner[0]" } }),
    );
  });

  it("keeps JSON's documented conversions that do not lose data", () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const args = encodeArguments({
      when: new Date(0),
      list: [1, undefined],
      absent: undefined,
      point: new Point(1, 2),
      bare: Object.create(null) as object,
    });
    expect(decodePayload(args.json)).toEqual({
      when: "1970-01-01T00:00:00.000Z",
      list: [1, null],
      point: { x: 1, y: 2 },
      bare: {},
    });
  });
});
