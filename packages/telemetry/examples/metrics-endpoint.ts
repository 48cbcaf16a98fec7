import { channel } from "node:diagnostics_channel";
import {
  createMetrics,
  currentCorrelationId,
  serveMetrics,
  withCorrelationId,
} from "@snakepit/telemetry";
import { Registry } from "prom-client";

/** Serves Snakepit metrics on loopback, feeds them one call, and returns what a scrape sees. */
export async function scrapeOnce(): Promise<{ correlationId: string | undefined; body: string }> {
  const registry = new Registry(); // yours, never prom-client's global one
  const metrics = createMetrics({ registry });
  const server = await serveMetrics({ registry }); // http://127.0.0.1:<free port>/metrics
  try {
    // The pool publishes these events; here we publish one call by hand on the same channels.
    const correlationId = await withCorrelationId("req-42", async () => {
      const fields = { pool: "default", tool: "add", callId: "c1", correlationId: "req-42" };
      channel("snakepit:call:start").publish({ ...fields, workerId: "default-1", waitMs: 0.2 });
      await new Promise((resolve) => setTimeout(resolve, 5));
      channel("snakepit:call:end").publish({ ...fields, workerId: "default-1", durationMs: 5 });
      return currentCorrelationId(); // still "req-42" after the await
    });
    const body = await (await fetch(server.url)).text();
    return { correlationId, body };
  } finally {
    await server.close();
    metrics.dispose();
  }
}
