import { SnakepitError } from "@snakepit/errors";
import { describe, expect, it } from "vitest";
import { type PoolLifecycle, PoolStateMachine } from "./pool-state.js";
import type { PoolState } from "./pool-types.js";

const error = new SnakepitError("ADAPTER_LOAD_FAILED", "boom");
const to = (kind: PoolState): PoolLifecycle =>
  kind === "failed" ? { kind, error } : ({ kind } as PoolLifecycle);

describe("PoolStateMachine", () => {
  it.each<[PoolState[], boolean]>([
    [["ready", "closing", "closed"], true],
    [["failed", "closing", "closed"], true],
    [["closing", "closed"], true],
    [["ready", "failed"], false],
    [["ready", "ready"], false],
    [["closing", "ready"], false],
    [["closed"], false],
    [["ready", "closing", "closed", "closing"], false],
  ])("from starting, %j is allowed: %s", (path, allowed) => {
    const m = new PoolStateMachine("p");
    expect(path.every((kind) => m.transition(to(kind)))).toBe(allowed);
  });

  it("a refused transition changes nothing", () => {
    const m = new PoolStateMachine("p");
    m.transition(to("ready"));
    expect(m.transition(to("failed"))).toBe(false);
    expect(m.kind).toBe("ready");
  });

  it("tells new calls why not: the start error when failed, POOL_CLOSED when closing or closed", () => {
    const m = new PoolStateMachine("p");
    expect(m.refusal()).toBeUndefined();
    m.transition(to("failed"));
    expect(m.refusal()).toBe(error);
    m.transition(to("closing"));
    expect(m.refusal()?.code).toBe("POOL_CLOSED");
    expect(m.running).toBe(false);
  });

  it("minReady resolves once reached", async () => {
    const m = new PoolStateMachine("p");
    m.reachedMinReady();
    await expect(m.minReady).resolves.toBeUndefined();
  });
});
