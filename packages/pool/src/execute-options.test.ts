import type { SnakepitError } from "@snakepit/errors";
import { describe, expect, it } from "vitest";
import { validateExecuteOptions } from "./execute-options.js";

function failure(options: unknown): SnakepitError {
  try {
    validateExecuteOptions(options);
  } catch (err) {
    return err as SnakepitError;
  }
  throw new Error("expected INVALID_OPTIONS");
}

describe("validateExecuteOptions (per-call options, checked like pool options)", () => {
  it.each([
    [{ timeoutMS: 100 }, "timeoutMS", "Unknown option `timeoutMS`"],
    [{ timeoutMs: -5 }, "timeoutMs", "got `-5` (number)"],
    [{ timeoutMs: Number.NaN }, "timeoutMs", "got `NaN` (number)"],
    [{ timeoutMs: 1.5 }, "timeoutMs", "an integer >= 0"],
    [{ affinity: "sticky" }, "affinity", '"strict-queue"'],
    [{ idempotent: "yes" }, "idempotent", "a boolean"],
    [{ correlationId: 7 }, "correlationId", "a non-empty string"],
    [{ metadata: { a: 1 } }, "metadata.a", "a string"],
    [{ metadata: "x" }, "metadata", "an object of strings"],
    [{ signal: { aborted: false } }, "signal", "an AbortSignal"],
    ["fast", "options", "an object"],
  ])("%j → INVALID_OPTIONS naming `%s`", (options, option, text) => {
    const err = failure(options);
    expect(err.code).toBe("INVALID_OPTIONS");
    expect(err.details.option).toBe(option);
    expect(err.message).toContain(text);
  });

  it.each(["", 7, null])(
    "a session id %j is data, not an option: INVALID_ARGUMENTS",
    (sessionId) => {
      expect(() => validateExecuteOptions({ sessionId } as never)).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENTS" }),
      );
    },
  );

  it("accepts every known option, undefined values and no options at all", () => {
    const options = {
      signal: new AbortController().signal,
      timeoutMs: 0,
      correlationId: "c",
      sessionId: "s",
      affinity: "strict-queue",
      idempotent: true,
      metadata: { k: "v" },
      sessionIdNot: undefined,
    };
    expect(failure(options).details.option).toBe("sessionIdNot");
    const { sessionIdNot: _, ...known } = options;
    expect(validateExecuteOptions(known)).toBe(known);
    expect(validateExecuteOptions({ timeoutMs: undefined })).toEqual({ timeoutMs: undefined });
    expect(validateExecuteOptions(undefined)).toEqual({});
  });
});
