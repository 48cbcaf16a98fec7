import { setTimeout as sleep } from "node:timers/promises";
import { isSnakepitError } from "@snakepit/errors";
import { describe, expect, it } from "vitest";
import { currentCorrelationId, withCorrelationId } from "./index.js";

describe("correlation ids (AsyncLocalStorage)", () => {
  it("is undefined outside a scope", () => {
    expect(currentCorrelationId()).toBeUndefined();
  });

  it("survives awaits, timers and promise chains, and nested scopes override only inside", async () => {
    const seen: (string | undefined)[] = [];
    const result = await withCorrelationId("outer", async () => {
      await sleep(1);
      seen.push(currentCorrelationId());
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.push(currentCorrelationId());
          resolve();
        }, 1),
      );
      const inner = await withCorrelationId("inner", async () => {
        await sleep(1);
        return currentCorrelationId();
      });
      seen.push(inner, currentCorrelationId());
      return "done";
    });
    expect(result).toBe("done");
    expect(seen).toEqual(["outer", "outer", "inner", "outer"]);
    expect(currentCorrelationId()).toBeUndefined();
  });

  it("keeps concurrent scopes apart", async () => {
    const run = (id: string, ms: number) =>
      withCorrelationId(id, async () => {
        await sleep(ms);
        return currentCorrelationId();
      });
    expect(await Promise.all([run("a", 5), run("b", 1), run("c", 3)])).toEqual(["a", "b", "c"]);
  });

  it("rejects an empty id", () => {
    try {
      withCorrelationId("", () => 1);
      expect.unreachable();
    } catch (err) {
      expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
    }
  });
});
