"""OpenTelemetry for tool calls: optional, and free when `opentelemetry` is not installed.

When `opentelemetry-api` is importable and a tracer provider is set, every tool call runs inside a
`snakepit.tool <name>` server span that continues the host's trace: the W3C `traceparent` /
`tracestate` the host sends as gRPC metadata are extracted with the standard propagator. Without
the package, or with no provider set, `tool_span()` returns a shared no-op context manager.

`bootstrap_otlp()` is an opt-in for workers with no OpenTelemetry set-up of their own: it starts an
OTLP/HTTP exporter configured from the standard `OTEL_*` environment variables, if
`opentelemetry-sdk` and `opentelemetry-exporter-otlp-proto-http` are installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, ContextManager, Mapping, Optional

log = logging.getLogger("snakepit_bridge.otel")

try:  # the only import-time cost when the package is absent is this failed import
    from opentelemetry import propagate, trace

    _API_INSTALLED = True
except ImportError:  # pragma: no cover - exercised in environments without opentelemetry
    propagate = None  # type: ignore[assignment]
    trace = None  # type: ignore[assignment]
    _API_INSTALLED = False

_NOOP: ContextManager[Any] = contextlib.nullcontext()
TRACER_NAME = "snakepit_bridge"


def enabled() -> bool:
    """True when spans would be recorded: the API is importable and a real provider is set."""
    if not _API_INSTALLED:
        return False
    # With no provider set the API hands out a proxy whose spans record nothing: skip the work.
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def tool_span(call: Any, context: Any, worker_id: str) -> ContextManager[Any]:
    """A context manager running one tool call inside a `snakepit.tool <name>` span.

    `call` is the `CallContext` (tool, correlation id), `context` the gRPC servicer context whose
    invocation metadata carries `traceparent`/`tracestate`. Exceptions raised inside are recorded
    on the span and mark it as an error.
    """
    if not enabled():
        return _NOOP
    metadata = {str(k): str(v) for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    return start_tool_span(call.tool, metadata, worker_id=worker_id, correlation_id=call.correlation_id)


def start_tool_span(tool: str, metadata: Mapping[str, str], *, worker_id: str,
                    correlation_id: str = "") -> ContextManager[Any]:
    """Starts the span of one tool call as a child of the trace context in `metadata`."""
    if not enabled():
        return _NOOP
    parent = propagate.extract(dict(metadata))
    span = trace.get_tracer(TRACER_NAME).start_span(
        f"snakepit.tool {tool}",
        context=parent,
        kind=trace.SpanKind.SERVER,
        attributes={
            "snakepit.tool": tool,
            "snakepit.worker.id": worker_id,
            "snakepit.correlation_id": correlation_id,
            "rpc.system": "grpc",
        },
    )
    return trace.use_span(span, end_on_exit=True, record_exception=True, set_status_on_exception=True)


def bootstrap_otlp(service_name: Optional[str] = None) -> bool:
    """Opt-in: export this worker's spans over OTLP/HTTP, configured from `OTEL_*` variables.

    Reads `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `..._HEADERS`,
    `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (through the SDK). Returns True when the
    exporter was started, False (with a warning) when `OTEL_SDK_DISABLED=true` or the SDK or the
    exporter package is not installed. Calls after a successful one do nothing and return True.
    """
    global _bootstrapped  # noqa: PLW0603 - a once-per-process flag, like the tracer provider it guards
    if _bootstrapped:
        return True
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        log.warning("OTLP export not started: install opentelemetry-sdk and "
                    "opentelemetry-exporter-otlp-proto-http (%s)", error)
        return False
    attributes = {"service.namespace": "snakepit"}
    if service_name or not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = service_name or "snakepit-python-worker"
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _bootstrapped = True
    return True


_bootstrapped = False
