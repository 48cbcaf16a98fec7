import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { isSnakepitError } from "@snakepit/errors";
import { afterEach, describe, expect, it } from "vitest";
import { bootstrapOtlp } from "./index.js";
import { startCallSpan } from "./internal.js";

const saved = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
  Object.assign(process.env, saved);
});

describe("bootstrapOtlp", () => {
  it("exports call spans over OTLP/HTTP to the endpoint in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", async () => {
    const bodies: { url: string | undefined; body: string }[] = [];
    const collector = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      bodies.push({ url: req.url, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    collector.listen(0, "127.0.0.1");
    await once(collector, "listening");
    const { port } = collector.address() as AddressInfo;
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}/v1/traces`;
    process.env.OTEL_SERVICE_NAME = "from-env";
    const handle = await bootstrapOtlp();
    try {
      expect(handle.enabled).toBe(true);
      const call = startCallSpan({ pool: "p", tool: "add", workerId: "w", correlationId: "c" });
      expect(call.span).toBeDefined();
      call.end();
      await handle.forceFlush();
      const traceId = call.carrier.traceparent?.split("-")[1];
      expect(bodies).toHaveLength(1);
      expect(bodies[0]?.url).toBe("/v1/traces");
      expect(bodies[0]?.body).toContain(traceId);
      expect(bodies[0]?.body).toContain("snakepit.call add");
      expect(bodies[0]?.body).toContain("from-env");
    } finally {
      await handle.shutdown();
      await handle.shutdown();
      collector.closeAllConnections();
      collector.close();
      await once(collector, "close");
    }
    // Unregistered again: calls are back on the no-op path.
    expect(
      startCallSpan({ pool: "p", tool: "add", workerId: "w", correlationId: "c" }).span,
    ).toBeUndefined();
  });

  it.each(["OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=none"])(
    "does nothing with %s",
    async (setting) => {
      const [key, value] = setting.split("=") as [string, string];
      process.env[key] = value;
      const handle = await bootstrapOtlp();
      expect(handle.enabled).toBe(false);
      await handle.shutdown();
    },
  );

  it("validates its options", async () => {
    const err = await bootstrapOtlp({ serviceName: "" }).catch((e) => e);
    expect(isSnakepitError(err, "INVALID_OPTIONS")).toBe(true);
  });
});
