import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { observability } from "./observability.js";

describe("observability example", () => {
  it("serves metrics and writes correlated logs from both languages", async () => {
    const lines: string[] = [];
    const logs: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split("\n").filter(Boolean)) logs.push(JSON.parse(l));
        done();
      },
    });
    await observability((l) => lines.push(l), sink);
    const text = lines.join("\n");
    expect(text).toMatch(/metrics served at http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(text).toMatch(/snakepit_calls_total\{[^}]*pool="observed"[^}]*tool="score"[^}]*\} 1/);
    expect(text).toMatch(/snakepit_calls_total\{[^}]*outcome="TOOL_ERROR"[^}]*\} 1/);
    const python = logs.filter((l) => l.source === "python" && l.correlationId === "checkout-1234");
    expect(python.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["scored 13 chars for session user-7", "about to fail"]),
    );
    expect(python.every((l) => typeof l.workerId === "string" && l.pool === "observed")).toBe(true);
  });
});
