import { createRequire } from "node:module";
import type { Span, Tracer, TracerProvider } from "@opentelemetry/api";
import { loadOtelApi, type OtelApi } from "./otel-api.js";

/** The instrumentation scope of every call span: this package's name and version. */
export const tracerName = "@snakepit/telemetry";
export const tracerVersion: string = (
  createRequire(import.meta.url)("../package.json") as { version: string }
).version;

/** What a call span is about. */
export interface CallSpanOptions {
  readonly pool: string;
  readonly tool: string;
  readonly workerId: string;
  readonly correlationId: string;
  /** The provider to trace with. Default: the globally registered one. */
  readonly tracerProvider?: TracerProvider;
}

/** One call's client span and the trace context to send to the worker. */
export interface CallSpan {
  /** The span, or `undefined` when no OpenTelemetry SDK is registered. */
  readonly span: Span | undefined;
  /** `traceparent` (and `tracestate`) to send as gRPC metadata; empty without an SDK. Read-only. */
  readonly carrier: Readonly<Record<string, string>>;
  /** Ends the span; an error marks it failed (its `code` is recorded). Idempotent. */
  end(error?: unknown): void;
}

const noopCallSpan: CallSpan = Object.freeze({
  span: undefined,
  carrier: Object.freeze({}),
  end() {},
});

let noopProvider: unknown;
const tracers = new WeakMap<TracerProvider, Tracer>();

/** One tracer per provider passed in (getTracer may build a new one each time). */
function tracerOf(provider: TracerProvider): Tracer {
  let tracer = tracers.get(provider);
  if (tracer === undefined) {
    tracer = provider.getTracer(tracerName, tracerVersion);
    tracers.set(provider, tracer);
  }
  return tracer;
}

// Where `@opentelemetry/api` 1.x (the peer range) keeps what was registered globally (its
// `GLOBAL_OPENTELEMETRY_API_KEY`); the SDK tests fail if it moves.
const otelGlobals = Symbol.for("opentelemetry.js.api.1");

/** True when an SDK registered a tracer provider (the API's proxy has a real delegate). */
function sdkRegistered(api: OtelApi): boolean {
  // Nothing registered a tracer provider globally (the usual case): no span. Two property reads,
  // where asking the API (`getTracerProvider()`: a version check, then the proxy's delegate) cost
  // more than anything else in a call's path through the pool, measured on the frames transport.
  const registered = (globalThis as { [otelGlobals]?: { trace?: unknown } })[otelGlobals];
  if (registered?.trace === undefined) return false;
  // A fresh proxy has no delegate and returns the API's no-op provider: the reference to compare.
  noopProvider ??= new api.ProxyTracerProvider().getDelegate();
  const provider = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
  return typeof provider.getDelegate !== "function" || provider.getDelegate() !== noopProvider;
}

/**
 * Starts the client span of one tool call, named `snakepit.call <tool>`, as a child of the active
 * context, with attributes `snakepit.pool`, `snakepit.tool`, `snakepit.worker.id`,
 * `snakepit.correlation_id` and `rpc.system=grpc`. The carrier holds the W3C trace context
 * (injected with the registered propagator; built from the span if that wrote no `traceparent`)
 * for the worker to continue the trace.
 *
 * The tracer is `@snakepit/telemetry` at this package's version, from `options.tracerProvider`
 * or else the global provider. Without `@opentelemetry/api` installed, or with neither a provider
 * passed nor an SDK registered, this returns a shared no-op at once: no span, an empty carrier,
 * nothing allocated.
 */
export function startCallSpan(options: CallSpanOptions): CallSpan {
  const api = loadOtelApi();
  if (api === null) return noopCallSpan;
  const { pool, tool, workerId, correlationId, tracerProvider } = options;
  let tracer: Tracer;
  if (tracerProvider === undefined) {
    if (!sdkRegistered(api)) return noopCallSpan;
    tracer = api.trace.getTracer(tracerName, tracerVersion);
  } else tracer = tracerOf(tracerProvider);
  const span = tracer.startSpan(`snakepit.call ${tool}`, {
    kind: api.SpanKind.CLIENT,
    attributes: {
      "snakepit.pool": pool,
      "snakepit.tool": tool,
      "snakepit.worker.id": workerId,
      "snakepit.correlation_id": correlationId,
      "rpc.system": "grpc",
    },
  });
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.trace.setSpan(api.context.active(), span), carrier);
  const sc = span.spanContext();
  if (carrier.traceparent === undefined && api.isSpanContextValid(sc)) {
    // No W3C propagator registered (e.g. a bare BasicTracerProvider): the worker only reads W3C.
    const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, "0");
    carrier.traceparent = `00-${sc.traceId}-${sc.spanId}-${flags}`;
    const state = sc.traceState?.serialize();
    if (state) carrier.tracestate = state;
  }
  let ended = false;
  return {
    span,
    carrier,
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code === "string") span.setAttribute("snakepit.error.code", code);
        if (error instanceof Error) span.recordException(error);
        span.setStatus({
          code: api.SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
      }
      span.end();
    },
  };
}
