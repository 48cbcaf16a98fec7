import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "./protocol-version.js";
import { parseControlLine } from "./worker-handshake.js";

const context = { workerId: "w1", adapter: "a.py" };
const ready = (extra: Record<string, unknown>) =>
  JSON.stringify({ event: "ready", address: "unix:/x.sock", ...extra });

describe("the readiness handshake's protocol check", () => {
  it("accepts a worker that speaks the host's protocol", () => {
    expect(parseControlLine(ready({ protocol: PROTOCOL_VERSION }), context)).toEqual({
      kind: "ready",
      address: "unix:/x.sock",
    });
  });

  it.each([
    [
      "a newer bridge",
      { protocol: PROTOCOL_VERSION + 1, bridge: "9.0.0", bridge_path: "/site/snakepit_bridge" },
      String(PROTOCOL_VERSION + 1),
    ],
    ["a bridge from before protocol versions", {}, "none"],
    ["a malformed version", { protocol: "1" }, "1"],
  ])(
    "refuses %s with PROTOCOL_VERSION_MISMATCH naming both versions and the fix",
    (_, extra, theirs) => {
      const parsed = parseControlLine(ready(extra), context);
      expect(parsed.kind).toBe("error");
      const error = parsed.kind === "error" ? parsed.error : undefined;
      expect(error?.code).toBe("PROTOCOL_VERSION_MISMATCH");
      expect(error?.message).toContain(`speaks protocol ${theirs}`);
      expect(error?.message).toContain(`speaks protocol ${PROTOCOL_VERSION}.`);
      expect(error?.message).toMatch(/pip install .*python/);
      expect(error?.details).toMatchObject({ hostProtocol: PROTOCOL_VERSION });
    },
  );

  it("maps the worker's own mismatch report to the same code", () => {
    const line = JSON.stringify({
      event: "error",
      code: "PROTOCOL_VERSION_MISMATCH",
      protocol: 7,
      bridge: "0.9.0",
      bridge_path: "/site/snakepit_bridge",
    });
    const parsed = parseControlLine(line, context);
    expect(parsed.kind === "error" && parsed.error.code).toBe("PROTOCOL_VERSION_MISMATCH");
    expect(parsed.kind === "error" && parsed.error.message).toContain(
      "snakepit_bridge 0.9.0 at /site/snakepit_bridge speaks protocol 7",
    );
  });
});
