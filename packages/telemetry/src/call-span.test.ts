import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { SnakepitError } from "@snakepit/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tracerVersion } from "./call-span.js";
import { startCallSpan } from "./internal.js";

const fields = { pool: "p", tool: "add", workerId: "p-1", correlationId: "corr-1" };

describe("startCallSpan", () => {
  it("is a shared no-op without a registered SDK", () => {
    const a = startCallSpan(fields);
    expect(a.span).toBeUndefined();
    expect(a.carrier).toEqual({});
    expect(startCallSpan(fields)).toBe(a);
    a.end(new Error("ignored"));
  });

  it("traces with a provider passed in (not registered globally), as @snakepit/telemetry at its version", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const call = startCallSpan({ ...fields, tracerProvider: provider });
    call.end();
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe("snakepit.call add");
    const scope =
      span?.instrumentationScope ??
      (span as { instrumentationLibrary?: unknown } | undefined)?.instrumentationLibrary;
    expect(scope).toMatchObject({ name: "@snakepit/telemetry", version: tracerVersion });
    expect(tracerVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(call.carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // The global provider is untouched: without an SDK registered, no span.
    expect(startCallSpan(fields).span).toBeUndefined();
    await provider.shutdown();
  });

  describe("with an SDK (in-memory exporter)", () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    // register(): global provider, AsyncLocalStorage context manager, W3C propagator.
    beforeAll(() => provider.register());
    afterAll(async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    });

    it("records a client span with the call's attributes; the carrier holds its traceparent", () => {
      exporter.reset();
      const call = startCallSpan(fields);
      call.end();
      call.end();
      const [span] = exporter.getFinishedSpans();
      expect(exporter.getFinishedSpans()).toHaveLength(1);
      expect(span?.name).toBe("snakepit.call add");
      expect(span?.kind).toBe(2); // SpanKind.CLIENT
      expect(span?.attributes).toEqual({
        "snakepit.pool": "p",
        "snakepit.tool": "add",
        "snakepit.worker.id": "p-1",
        "snakepit.correlation_id": "corr-1",
        "rpc.system": "grpc",
      });
      const sc = span?.spanContext();
      expect(call.carrier.traceparent).toBe(`00-${sc?.traceId}-${sc?.spanId}-01`);
    });

    it("continues the active trace and marks errors with their code", () => {
      exporter.reset();
      const parent = trace.getTracer("app").startSpan("request");
      const call = context.with(trace.setSpan(context.active(), parent), () =>
        startCallSpan(fields),
      );
      call.end(new SnakepitError("TOOL_ERROR", "boom"));
      parent.end();
      const [span] = exporter.getFinishedSpans();
      expect(span?.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(span?.status).toEqual({ code: 2, message: "boom" }); // SpanStatusCode.ERROR
      expect(span?.attributes["snakepit.error.code"]).toBe("TOOL_ERROR");
      expect(span?.events.map((e) => e.name)).toEqual(["exception"]);
      expect(call.carrier.traceparent?.split("-")[1]).toBe(parent.spanContext().traceId);
    });

    it("builds the traceparent from the span when no propagator is registered", () => {
      propagation.disable();
      exporter.reset();
      const call = startCallSpan(fields);
      call.end();
      const sc = exporter.getFinishedSpans()[0]?.spanContext();
      expect(call.carrier).toEqual({ traceparent: `00-${sc?.traceId}-${sc?.spanId}-01` });
    });

    it("uses the registered propagator when there is one", () => {
      propagation.setGlobalPropagator({
        inject: (_ctx, carrier, setter) => setter.set(carrier, "traceparent", "from-propagator"),
        extract: (ctx) => ctx,
        fields: () => ["traceparent"],
      });
      try {
        const call = startCallSpan(fields);
        call.end();
        expect(call.carrier).toEqual({ traceparent: "from-propagator" });
      } finally {
        propagation.disable();
      }
    });
  });
});
