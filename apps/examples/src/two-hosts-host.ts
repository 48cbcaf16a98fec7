// One host of the two-host example: its own pool, the shared Redis session store, and calls
// asked for by the parent over the IPC channel (`process.send`). Not run on its own.
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { createRedisSessionStore } from "@snakepit/session-redis";

/** A call the parent asks a host to make. */
export interface HostRequest {
  readonly id: number;
  readonly tool: string;
  readonly sessionId: string;
  readonly args?: Record<string, unknown>;
  /** Make the call this many times, all at once. Default 1. */
  readonly times?: number;
}

/** A host's answer: the last call's result, or the first error's code. */
export interface HostReply {
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}

const adapter = fileURLToPath(new URL("../adapters/cart_adapter.py:CartAdapter", import.meta.url));

async function main(): Promise<void> {
  const url = process.env.EXAMPLE_REDIS_URL;
  if (url === undefined || process.send === undefined) throw new Error("run by two-hosts.ts");
  const sessionStore = createRedisSessionStore({ url, keyPrefix: "example:cart:", ttlMs: 600_000 });
  const pool = createPool({ adapter, size: 2, sessionStore, name: process.env.EXAMPLE_HOST });
  await pool.ready();
  process.on("message", (request: HostRequest) => {
    const calls = Array.from({ length: request.times ?? 1 }, () =>
      pool.execute(request.tool, request.args ?? {}, { sessionId: request.sessionId }),
    );
    Promise.all(calls).then(
      (values) => process.send?.({ id: request.id, value: values.at(-1) } satisfies HostReply),
      (err: { code?: string }) =>
        process.send?.({ id: request.id, error: err.code } satisfies HostReply),
    );
  });
  // The parent disconnects when it is done: close cleanly.
  process.on("disconnect", () => {
    void pool.close().then(() => sessionStore.close());
  });
  process.send({ ready: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
