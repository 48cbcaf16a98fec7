import { fileURLToPath } from "node:url";
import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePool } from "./pool-test-helpers.test-helper.js";

const fixtures = fileURLToPath(new URL("../../python-bridge/test/fixtures/", import.meta.url));

describe("OpenTelemetry across both languages", () => {
  // In-memory exporters on both sides: the SDK here, a tracer provider in the worker (traced_adapter.py).
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it("one trace spans the host's client span and the worker's tool span", async () => {
    const pool = usePool({
      adapter: `${fixtures}traced_adapter.py:TracedAdapter`,
      size: 1,
      env: { PYTHONPATH: fixtures },
    });
    await pool.execute("work", { ms: 5 }, { correlationId: "trace-me" });
    const host = exporter.getFinishedSpans().find((s) => s.name === "snakepit.call work");
    expect(host).toBeDefined();
    expect(host?.attributes).toMatchObject({
      "snakepit.pool": "default",
      "snakepit.tool": "work",
      "snakepit.correlation_id": "trace-me",
    });
    const [worker] =
      await pool.execute<
        Array<{
          name: string;
          traceId: string;
          parentSpanId: string;
          attributes: Record<string, string>;
        }>
      >("spans");
    expect(worker).toMatchObject({
      name: "snakepit.tool work",
      traceId: host?.spanContext().traceId,
      parentSpanId: host?.spanContext().spanId,
    });
    expect(worker?.attributes["snakepit.correlation_id"]).toBe("trace-me");
  });
});

describe("the tracerProvider option", () => {
  it("traces with the provider given (none registered globally), tracer @snakepit/telemetry at its version", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    try {
      const pool = usePool({
        adapter: `${fixtures}echo_adapter.py:EchoAdapter`,
        size: 1,
        tracerProvider: provider,
      });
      expect(await pool.execute("add", { a: 1, b: 2 })).toBe(3);
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe("snakepit.call add");
      expect(span?.instrumentationScope).toMatchObject({
        name: "@snakepit/telemetry",
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      });
    } finally {
      await provider.shutdown();
    }
  });

  it("rejects a tracerProvider that is not one", () => {
    expect(() => usePool({ adapter: "x.py", tracerProvider: {} as never })).toThrow(
      "Expected `tracerProvider` to be an OpenTelemetry TracerProvider",
    );
  });
});
