import { describe, expect, it } from "vitest";
import { type HeartbeatState, transitionHeartbeat } from "./heartbeat-state.js";

describe("transitionHeartbeat", () => {
  it.each<[HeartbeatState, HeartbeatState]>([
    ["idle", "running"],
    ["idle", "stopped"],
    ["running", "failed"],
    ["running", "stopped"],
  ])("allows %s → %s", (from, to) => {
    expect(transitionHeartbeat(from, to)).toBe(to);
  });

  it.each<[HeartbeatState, HeartbeatState]>([
    ["idle", "failed"],
    ["failed", "running"],
    ["failed", "stopped"],
    ["stopped", "running"],
    ["running", "idle"],
  ])("refuses %s → %s with INTERNAL", (from, to) => {
    expect(() => transitionHeartbeat(from, to)).toThrow(
      expect.objectContaining({ code: "INTERNAL" }),
    );
  });
});
