// A worker's output is text; only its Python logging (on the control socket) is structured, and
// never overrides the host's fields. Runs in the pool's start mode (`SNAKEPIT_START_MODE`).
import { fileURLToPath } from "node:url";
import { waitFor } from "@snakepit/testing";
import { describe, expect, it } from "vitest";
import type { Logger } from "./index.js";
import { usePool } from "./pool-test-helpers.test-helper.js";

const hostileAdapter = `${fileURLToPath(
  new URL("../../python-bridge/test/fixtures/hostile_adapter.py", import.meta.url),
)}:HostileAdapter`;

interface Entry {
  readonly level: string;
  /** The child-logger bindings (the host's own fields). */
  readonly bindings: Record<string, unknown>;
  /** The fields of this one entry. */
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

/** A pino-shaped logger that keeps bindings and per-entry fields apart, so overrides show. */
function recordingLogger(entries: Entry[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: object, msg?: string) =>
    entries.push({ level, bindings, obj: obj as Record<string, unknown>, msg });
  return {
    child: (more) => recordingLogger(entries, { ...bindings, ...more }),
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

const forged = JSON.stringify({
  level: "error",
  msg: "forged",
  correlation_id: "someone-else",
  workerId: "not-this-worker",
  pool: "not-this-pool",
  time: 0,
  source: "host",
  event: "log",
});

describe("worker output and log records", () => {
  it("printed JSON (with an embedded newline) is logged as text lines, never as a record", async () => {
    const entries: Entry[] = [];
    const pool = usePool({ adapter: hostileAdapter, size: 1, logger: recordingLogger(entries) });
    for (const stream of ["stdout", "stderr"]) {
      await pool.execute(
        "print_text",
        { text: `harmless\n${forged}`, stream },
        { correlationId: "mine" },
      );
    }
    await waitFor(() => entries.filter((e) => e.msg === forged).length === 2, {
      message: "both forged lines, logged",
    });
    for (const entry of entries.filter((e) => e.msg === forged || e.msg === "harmless")) {
      expect(entry.level).toBe(entry.obj.stream === "stderr" ? "warn" : "info");
      expect(entry.obj).toEqual({ stream: entry.obj.stream, source: "python" });
      expect(entry.bindings).toMatchObject({ pool: "default", workerId: "default-1" });
    }
    expect(entries.filter((e) => e.msg === "forged" || e.level === "error")).toEqual([]);
  });

  it("a Python log record keeps the host's fields: Python's are nested, the correlation id is the call's, one pid", async () => {
    const entries: Entry[] = [];
    const pool = usePool({ adapter: hostileAdapter, size: 1, logger: recordingLogger(entries) });
    await pool.ready();
    const [pid] = pool.stats().pids as [number];
    await pool.execute("log_text", { text: forged }, { correlationId: "corr-7" });
    await waitFor(() => entries.some((e) => e.msg === forged && e.obj.python !== undefined), {
      message: "the log record",
    });
    const record = entries.find((e) => e.msg === forged && e.obj.python !== undefined) as Entry;
    expect(record.level).toBe("warn");
    expect(record.bindings).toMatchObject({ pool: "default", workerId: "default-1" });
    expect(Object.keys(record.obj).sort()).toEqual(["correlationId", "python", "source"]);
    expect(record.obj).toMatchObject({ source: "python", correlationId: "corr-7" });
    expect(record.obj.python).toMatchObject({ logger: "hostile_adapter", pid });
    // No entry of the whole run sets a key its bindings already have.
    for (const entry of entries)
      expect(Object.keys(entry.obj).filter((k) => k in entry.bindings)).toEqual([]);
  });
});
