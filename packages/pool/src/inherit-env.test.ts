import { canFork } from "@snakepit/python-bridge";
import { TEST_TAG_ENV } from "@snakepit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { usePool } from "./pool-test-helpers.test-helper.js";
import { resolvePoolOptions } from "./resolve-pool-options.js";

const hostileAdapter = new URL("../test/fixtures/hostile_adapter.py", import.meta.url).pathname;
const adapter = `${hostileAdapter}:HostileAdapter`;
const SECRET = "SNAKEPIT_TEST_CLOUD_SECRET";

beforeEach(() => {
  process.env[SECRET] = "hunter2";
});
afterEach(() => {
  delete process.env[SECRET];
});

const modes = canFork() ? (["spawn", "fork"] as const) : (["spawn"] as const);

describe.each(modes)("inheritEnv in %s mode", (startMode) => {
  it("false: a secret in the host's environment does not reach a worker; `env` and Snakepit's own do", async () => {
    const pool = usePool({
      adapter,
      size: 1,
      startMode,
      // The test tag lets the leak checker find the worker; it is passed on by name.
      inheritEnv: false,
      env: { [TEST_TAG_ENV]: process.env[TEST_TAG_ENV], APP_MODE: "clean" },
    });
    const env = (await pool.execute("environ")) as Record<string, string>;
    expect(env[SECRET]).toBeUndefined();
    expect(env.APP_MODE).toBe("clean");
    expect(env.PYTHONUNBUFFERED).toBe("1");
    expect(env.PATH).toBeUndefined();
    // Not even in the environment the process started with (a forked worker's: its fork server's).
    expect(await pool.execute("initial_environ")).not.toContain(SECRET);
    await pool.close();
  });

  it("an allow-list: only the names listed are inherited", async () => {
    const pool = usePool({ adapter, size: 1, startMode, inheritEnv: ["PATH", TEST_TAG_ENV] });
    const env = (await pool.execute("environ")) as Record<string, string>;
    expect(env[SECRET]).toBeUndefined();
    expect(env.PATH).toBe(process.env.PATH);
    expect(await pool.execute("initial_environ")).not.toContain(SECRET);
    await pool.close();
  });

  it("default: the host's environment is inherited", async () => {
    const pool = usePool({ adapter, size: 1, startMode });
    const env = (await pool.execute("environ")) as Record<string, string>;
    expect(env[SECRET]).toBe("hunter2");
    await pool.close();
  });
});

it.each([["yes"], [["PATH", 3]], [["A=B"]], [null]])(
  "inheritEnv is validated at the door: %j",
  (inheritEnv) => {
    expect(() => resolvePoolOptions({ adapter, inheritEnv } as never)).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTIONS",
        message: expect.stringContaining("`inheritEnv`"),
      }),
    );
  },
);
