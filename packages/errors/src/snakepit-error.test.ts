import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
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

describe("a second installed copy of @snakepit/errors", () => {
  const dist = fileURLToPath(new URL("../dist/", import.meta.url));

  /** Imports the built package from a copied directory: another module instance, as npm could install. */
  async function withSecondCopy(run: (other: typeof import("./index.js")) => void): Promise<void> {
    if (!existsSync(join(dist, "index.js")))
      throw new Error(`build @snakepit/errors first: ${dist}`);
    const dir = mkdtempSync(join(tmpdir(), "snakepit-errors-copy-"));
    try {
      cpSync(dist, join(dir, "dist"), { recursive: true });
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      run(await import(pathToFileURL(join(dir, "dist", "index.js")).href));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("is recognised by isSnakepitError, instanceof and from(), both ways", async () => {
    await withSecondCopy((other) => {
      expect(other.SnakepitError).not.toBe(SnakepitError);
      const theirs = new other.SnakepitError("QUEUE_FULL", "full");
      expect(isSnakepitError(theirs)).toBe(true);
      expect(isSnakepitError(theirs, "QUEUE_FULL")).toBe(true);
      expect(isSnakepitError(theirs, "ABORTED")).toBe(false);
      expect(theirs instanceof SnakepitError).toBe(true);
      expect(SnakepitError.from(theirs, "INTERNAL")).toBe(theirs);
      const ours = new SnakepitError("ABORTED", "stop");
      expect(other.isSnakepitError(ours, "ABORTED")).toBe(true);
      expect(ours instanceof other.SnakepitError).toBe(true);
    });
  });

  it("takes no look-alikes, and a subclass keeps its own instanceof", () => {
    const lookalike = Object.assign(new Error("x"), { name: "SnakepitError", code: "ABORTED" });
    expect(isSnakepitError(lookalike)).toBe(false);
    expect(lookalike instanceof SnakepitError).toBe(false);
    expect(isSnakepitError(null)).toBe(false);
    expect(isSnakepitError({ code: "ABORTED" })).toBe(false);
    class Special extends SnakepitError {}
    expect(new Special("ABORTED", "x") instanceof SnakepitError).toBe(true);
    expect(new Special("ABORTED", "x") instanceof Special).toBe(true);
    expect(new SnakepitError("ABORTED", "x") instanceof Special).toBe(false);
  });

  it("keeps the brand out of what a log or JSON shows", () => {
    const err = new SnakepitError("ABORTED", "x");
    expect(Object.getOwnPropertySymbols(err)).toEqual([]);
    expect(Object.keys(err)).toEqual(["name", "code", "details"]);
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
