// Shared by the pool's test files (not shipped: `*.test-helper.ts` is excluded from the package).
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";
import { createPool, type Pool, SnakepitError } from "./index.js";

const fixtures = fileURLToPath(new URL("../../python-bridge/test/fixtures/", import.meta.url));
export const echoAdapter = `${fixtures}echo_adapter.py:EchoAdapter`;
export const moduleToolsAdapter = `${fixtures}module_tools.py`;

const pools: Pool[] = [];

/** `createPool` for tests: every pool is destroyed after the test (the leak checker then checks). */
export function usePool(options: Parameters<typeof createPool>[0]): Pool {
  const pool = createPool(options);
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
});

/** The `SnakepitError` a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<SnakepitError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SnakepitError);
    return err as SnakepitError;
  }
  throw new Error("expected a rejection");
}
