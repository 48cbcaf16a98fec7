import { describe, expect, it } from "vitest";
import { errorCodes, isSnakepitError, SnakepitError } from "./index.js";
import { expectInteger, invalidOption, rejectUnknownKeys } from "./internal.js";

describe("SnakepitError", () => {
  it("carries a code, details and cause", () => {
    const cause = new Error("boom");
    const err = new SnakepitError("TOOL_ERROR", "tool failed", {
      cause,
      details: { type: "ValueError" },
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("SnakepitError");
    expect(err.code).toBe("TOOL_ERROR");
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ type: "ValueError" });
    expect(isSnakepitError(err, "TOOL_ERROR")).toBe(true);
    expect(isSnakepitError(err, "ABORTED")).toBe(false);
  });

  it("from() keeps SnakepitErrors and wraps anything else", () => {
    const own = new SnakepitError("ABORTED", "x");
    expect(SnakepitError.from(own, "INTERNAL")).toBe(own);
    const wrapped = SnakepitError.from(new TypeError("bad"), "TRANSPORT_ERROR");
    expect(wrapped.code).toBe("TRANSPORT_ERROR");
    expect(wrapped.message).toBe("bad");
    expect(SnakepitError.from("text").code).toBe("INTERNAL");
  });

  it("has unique codes", () => {
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
  });
});

describe("option validation", () => {
  it("names the option, the rule and the value", () => {
    expect(invalidOption("heartbeat.timeoutMs", "a positive integer", -5).message).toBe(
      "Expected `heartbeat.timeoutMs` to be a positive integer, got `-5` (number)",
    );
    expect(() => expectInteger("size", 0, 1)).toThrow(
      /Expected `size` to be a positive integer, got `0` \(number\)/,
    );
    expect(expectInteger("size", 3, 1)).toBe(3);
  });

  it("rejects unknown keys", () => {
    try {
      rejectUnknownKeys({ intervalMs: 1, intervalMS: 2 }, ["intervalMs"], "heartbeat");
      expect.unreachable();
    } catch (err) {
      expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
      expect((err as SnakepitError).message).toContain("`heartbeat.intervalMS`");
    }
  });
});
