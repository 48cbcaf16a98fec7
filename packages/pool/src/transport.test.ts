import { describe, expect, it } from "vitest";
import { createPool } from "./index.js";
import { echoAdapter as adapter, rejection, usePool } from "./pool-test-helpers.test-helper.js";

const MiB = 1024 * 1024;

describe("transport options", () => {
  it.each([
    [{ transport: "http" }, "transport"],
    [{ maxMessageBytes: 0 }, "maxMessageBytes"],
    [{ maxMessageBytes: 1.5 }, "maxMessageBytes"],
  ])("rejects %j with INVALID_OPTIONS naming the option", (bad, name) => {
    let caught: unknown;
    try {
      createPool({ adapter, ...(bad as object) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: "INVALID_OPTIONS" });
    expect((caught as Error).message).toContain(`\`${name}\``);
  });
});

describe.each(["frames", "grpc"] as const)("the %s transport", (transport) => {
  it("fails a call whose arguments or result are over maxMessageBytes alone with PAYLOAD_TOO_LARGE; the worker keeps serving", async () => {
    const pool = usePool({ adapter, size: 1, transport, maxMessageBytes: MiB, registry: false });
    await pool.ready();
    const pid = await pool.execute("pid");
    const tooBig = await rejection(pool.execute("echo", { value: Buffer.alloc(2 * MiB) }));
    expect(tooBig.code).toBe("PAYLOAD_TOO_LARGE");
    expect(tooBig.details).toMatchObject({ limit: MiB });
    expect((tooBig.details as { size: number }).size).toBeGreaterThan(2 * MiB);
    const bigResult = await rejection(pool.execute("big", { n: 2 * MiB }));
    expect(bigResult.code).toBe("PAYLOAD_TOO_LARGE");
    expect((bigResult.details as { details: unknown }).details).toMatchObject({
      size: 2 * MiB,
      limit: MiB,
    });
    expect(await pool.execute("echo", { value: Buffer.alloc(MiB / 2, 1) })).toHaveLength(MiB / 2);
    expect(await pool.execute("pid")).toBe(pid);
    expect(pool.stats().restarts).toBe(0);
  });
});

describe("the frames transport", () => {
  it.each(["oversized", "malformed", "truncated"])(
    "a %s frame from a worker fails the calls on it with PROTOCOL_ERROR; the worker is replaced and the pool serves on",
    async (kind) => {
      const pool = usePool({
        adapter,
        size: 1,
        transport: "frames",
        profile: "thread",
        threadsPerWorker: 2,
        registry: false,
      });
      await pool.ready();
      const pid = await pool.execute("pid");
      const running = pool.execute("sleep", { seconds: 30 });
      const breaking = pool.execute("frames_garbage", { kind });
      for (const err of await Promise.all([rejection(breaking), rejection(running)]))
        expect(["PROTOCOL_ERROR", "WORKER_CRASHED"]).toContain(err.code);
      // A new worker serves the next call.
      expect(await pool.execute("add", { a: 1, b: 2 })).toBe(3);
      expect(await pool.execute("pid")).not.toBe(pid);
      expect(pool.stats().restarts).toBe(1);
    },
  );
});
