// Observability: Prometheus metrics at /metrics, and logs from Node and Python correlated by the
// same correlation id. Run it with `pnpm --filter @snakepit/examples run observability`.
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { createMetrics, serveMetrics, withCorrelationId } from "@snakepit/telemetry";
import { pino } from "pino";
import { Registry } from "prom-client";

const adapter = fileURLToPath(
  new URL("../adapters/observed_adapter.py:ObservedAdapter", import.meta.url),
);

/** Runs the example; `print` receives what it shows, `logStream` the JSON log lines. */
export async function observability(
  print: (line: string) => void = console.log,
  logStream: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const registry = new Registry();
  const metrics = createMetrics({ registry });
  const server = await serveMetrics({ registry });
  const logger = pino({ level: "info" }, logStream);
  const pool = createPool({ adapter, size: 2, logger, name: "observed" });
  try {
    await pool.ready();
    // Everything inside carries this correlation id: host events, the gRPC call, Python's log lines.
    await withCorrelationId("checkout-1234", async () => {
      await pool.execute("score", { text: "good and fast" }, { sessionId: "user-7" });
      await pool
        .execute("explode")
        .catch((err: Error) => logger.warn({ err: err.message }, "explode failed as planned"));
    });
    const body = await (await fetch(server.url)).text();
    print(`metrics served at ${server.url}`);
    for (const line of body
      .split("\n")
      .filter((l) => /^snakepit_(calls_total|workers|call_duration_seconds_count)/.test(l)))
      print(`  ${line}`);
  } finally {
    await pool.close();
    await server.close();
    metrics.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  observability().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
