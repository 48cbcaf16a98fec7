import { waitFor } from "@snakepit/testing";
import { describe, expect, it } from "vitest";
import { echoAdapter, rejection, usePool } from "./pool-test-helpers.test-helper.js";

describe("sessions", () => {
  it("state written in one call is read in the next on another worker (state lives on the host)", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 2 });
    await pool.ready();
    const first = await pool.execute<number>("pid", {}, { sessionId: "s1" });
    await pool.execute(
      "session_set",
      { key: "model", value: { name: "tiny", layers: 2 } },
      { sessionId: "s1" },
    );
    // Take the session's worker away: the next call must run elsewhere.
    process.kill(first, "SIGKILL");
    await waitFor(() => !pool.stats().pids.includes(first), {
      message: "the pool to notice the crash",
    });
    const second = await pool.execute<number>("pid", {}, { sessionId: "s1" });
    expect(second).not.toBe(first);
    expect(await pool.execute("session_get", { key: "model" }, { sessionId: "s1" })).toEqual({
      name: "tiny",
      layers: 2,
    });
    expect(await pool.execute("session_get", { key: "model" }, { sessionId: "other" })).toBeNull();
  });

  it.each([
    ["empty", ""],
    ["too long", "s".repeat(257)],
    ["a number", 7],
    ["null", null],
  ])("a session id that is %s fails with INVALID_ARGUMENTS", async (_, sessionId) => {
    const pool = usePool({ adapter: echoAdapter, size: 1 });
    const err = await rejection(pool.execute("pid", {}, { sessionId: sessionId as string }));
    expect(err.code).toBe("INVALID_ARGUMENTS");
  });

  it("no update is lost: a write after a stale read fails with SESSION_CONFLICT, update() retries until it wins", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 2 });
    await pool.ready();
    const naive = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        pool.execute("session_add", { key: "n", n: 1 }, { sessionId: "c" }),
      ),
    );
    const won = naive.filter((r) => r.status === "fulfilled").length;
    for (const r of naive) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "SESSION_CONFLICT" });
    }
    expect(await pool.execute("session_get", { key: "n" }, { sessionId: "c" })).toBe(won);
    await Promise.all(
      Array.from({ length: 30 }, () =>
        pool.execute("session_incr", { key: "m" }, { sessionId: "c" }),
      ),
    );
    expect(await pool.execute("session_get", { key: "m" }, { sessionId: "c" })).toBe(30);
  });

  it("a Python tool calls a host-side JavaScript function", async () => {
    const seen: unknown[] = [];
    const pool = usePool({
      adapter: echoAdapter,
      size: 1,
      hostTools: {
        double: ({ x }, context) => {
          seen.push(context.sessionId);
          return (x as number) * 2;
        },
      },
    });
    expect(
      await pool.execute("call_host", { name: "double", args: { x: 21 } }, { sessionId: "s2" }),
    ).toBe(42);
    expect(seen).toEqual(["s2"]);
    const err = await rejection(pool.execute("call_host", { name: "nope", args: {} }));
    expect(err.code).toBe("TOOL_ERROR");
    expect(err.details.type).toBe("snakepit_bridge.HostToolError");
    expect(err.message).toContain('No host tool "nope"');
  });
});

// Which worker a session call takes in each affinity mode (hint falling back, strict-queue
// waiting, strict-fail-fast's SESSION_BUSY) is specified without Python in dispatcher.test.ts
// and worker-selection.test.ts; here, that a real session sticks to its worker.
describe("session affinity", () => {
  it("hint: consecutive calls of a session run on the same worker", async () => {
    const pool = usePool({ adapter: echoAdapter, size: 2 });
    await pool.ready();
    const pids = new Set<number>();
    for (let i = 0; i < 5; i++) pids.add(await pool.execute<number>("pid", {}, { sessionId: "h" }));
    expect(pids.size).toBe(1);
  });
});
