import { describe, expect, it } from "vitest";
import { CrashBarrier, classifyExit, QUICK_CRASH_MS } from "./crash-barrier.js";

describe("classifyExit", () => {
  it.each([
    [{ signal: "SIGKILL" }, "killed"],
    [{ signal: "SIGTERM" }, "killed"],
    [{ signal: "SIGINT" }, "killed"],
    [{ signal: "SIGSEGV" }, "crash"],
    [{ signal: "SIGABRT" }, "crash"],
    [{ signal: null }, "crash"],
  ] as const)("%j is %s", (exit, kind) => {
    expect(classifyExit(exit)).toBe(kind);
  });
});

describe("CrashBarrier", () => {
  it("backs off after failed starts in a row: 0, 100, 200, 400 ms", () => {
    const b = new CrashBarrier();
    const delays = [b.delayMs("start-failed")];
    for (let i = 0; i < 3; i++) {
      b.startFailed();
      delays.push(b.delayMs("start-failed"));
    }
    expect(delays).toEqual([0, 100, 200, 400]);
  });

  it("degraded after 3 failed starts in a row; a successful start makes it healthy again", () => {
    const b = new CrashBarrier();
    b.startFailed();
    b.startFailed();
    expect(b.degraded(0)).toBe(false);
    b.startFailed();
    expect(b.degraded(0)).toBe(true);
    expect(b.degraded(4)).toBe(true);
    b.started();
    expect(b.degraded(0)).toBe(false);
    expect(b.delayMs()).toBe(0);
  });

  it("quick crashes of its own count and back off; a worker that lived long resets them", () => {
    const b = new CrashBarrier();
    for (let i = 0; i < 3; i++) b.exited("crash", 100);
    expect(b.delayMs("crash")).toBe(400);
    expect(b.degraded(0)).toBe(true);
    // A worker is up: the pool is not unable to start workers.
    expect(b.degraded(1)).toBe(false);
    b.exited("crash", QUICK_CRASH_MS);
    expect(b.streak).toBe(0);
  });

  it("a worker killed from outside never counts and is replaced at once, however young", () => {
    const b = new CrashBarrier();
    for (let i = 0; i < 100; i++) b.exited("killed", 10);
    expect(b.streak).toBe(0);
    expect(b.degraded(0)).toBe(false);
    b.exited("crash", 10);
    b.exited("crash", 10);
    expect(b.delayMs("killed")).toBe(0);
    expect(b.delayMs("crash")).toBe(200);
  });
});
