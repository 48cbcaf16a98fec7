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
});
