"""Tool spans continue the host's W3C trace; without a tracer provider they cost nothing.

The SDK (`opentelemetry-sdk`) is not in the dev requirements' reach here, so the test records spans
with a small in-memory tracer written against the public `opentelemetry-api` interfaces, the same
ones the SDK implements.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Optional

import pytest

trace = pytest.importorskip("opentelemetry.trace")

from snakepit_bridge import otel  # noqa: E402
from snakepit_bridge.call_context import CallContext  # noqa: E402
from snakepit_bridge.servicer import CORRELATION_METADATA  # noqa: E402

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"


class RecordedSpan(trace.Span):
    """A span that keeps everything it is told, in memory (the in-memory exporter's view)."""

    def __init__(self, name: str, context: trace.SpanContext, parent: Optional[trace.SpanContext],
                 kind: trace.SpanKind, attributes: Dict[str, Any], finished: List["RecordedSpan"]) -> None:
        self.name, self.context, self.parent, self.kind = name, context, parent, kind
        self.attributes = dict(attributes)
        self.status: Optional[trace.Status] = None
        self.exceptions: List[BaseException] = []
        self.ended = False
        self._finished = finished

    def get_span_context(self) -> trace.SpanContext:
        return self.context

    def set_attributes(self, attributes: Dict[str, Any]) -> None:
        self.attributes.update(attributes)

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value

    def add_event(self, name: str, attributes: Any = None, timestamp: Any = None) -> None:
        pass

    def update_name(self, name: str) -> None:
        self.name = name

    def is_recording(self) -> bool:
        return not self.ended

    def set_status(self, status: Any, description: Optional[str] = None) -> None:
        self.status = status if isinstance(status, trace.Status) else trace.Status(status, description)

    def record_exception(self, exception: BaseException, attributes: Any = None, timestamp: Any = None,
                         escaped: bool = False) -> None:
        self.exceptions.append(exception)

    def end(self, end_time: Optional[int] = None) -> None:
        self.ended = True
        self._finished.append(self)


class InMemoryTracer(trace.Tracer):
    def __init__(self, finished: List[RecordedSpan]) -> None:
        self.finished = finished

    def start_span(self, name, context=None, kind=trace.SpanKind.INTERNAL, attributes=None, links=None,  # noqa: ANN001
                   start_time=None, record_exception=True, set_status_on_exception=True) -> RecordedSpan:
        parent = trace.get_current_span(context).get_span_context()
        trace_id = parent.trace_id if parent.is_valid else random.getrandbits(128)
        ctx = trace.SpanContext(trace_id, random.getrandbits(64), is_remote=False,
                                trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED))
        return RecordedSpan(name, ctx, parent if parent.is_valid else None, kind, attributes or {}, self.finished)

    def start_as_current_span(self, name, context=None, kind=trace.SpanKind.INTERNAL, attributes=None,  # noqa: ANN001
                              links=None, start_time=None, record_exception=True, set_status_on_exception=True,
                              end_on_exit=True):
        return trace.use_span(self.start_span(name, context, kind, attributes), end_on_exit=end_on_exit)


class InMemoryTracerProvider(trace.TracerProvider):
    def __init__(self) -> None:
        self.finished: List[RecordedSpan] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> InMemoryTracer:
        return InMemoryTracer(self.finished)


class FakeServicerContext:
    """The part of `grpc.ServicerContext` the hook reads."""

    def __init__(self, metadata: Dict[str, str]) -> None:
        self._metadata = tuple(metadata.items())

    def invocation_metadata(self):  # noqa: ANN201
        return self._metadata


@pytest.fixture
def provider(monkeypatch):
    recording = InMemoryTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: recording)
    return recording


def _call(tool: str = "add") -> CallContext:
    return CallContext(call_id="c1", correlation_id="corr-123", tool=tool)


def test_no_provider_means_a_shared_noop():
    assert not otel.enabled()
    context = FakeServicerContext({"traceparent": TRACEPARENT})
    assert otel.tool_span(_call(), context, "w-1") is otel.tool_span(_call(), context, "w-1")
    with otel.tool_span(_call(), context, "w-1"):
        assert not trace.get_current_span().get_span_context().is_valid


def test_tool_span_continues_the_hosts_trace(provider):
    context = FakeServicerContext({
        "traceparent": TRACEPARENT,
        "tracestate": "vendor=abc",
        CORRELATION_METADATA: "corr-123",
    })
    with otel.tool_span(_call("add"), context, "w-1"):
        inside = trace.get_current_span().get_span_context()
    [span] = provider.finished
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert inside == span.context  # the tool runs with the span current (nested spans are its children)
    assert span.parent is not None and format(span.parent.span_id, "016x") == PARENT_SPAN_ID
    assert span.parent.is_remote and span.parent.trace_state.get("vendor") == "abc"
    assert span.name == "snakepit.tool add"
    assert span.kind == trace.SpanKind.SERVER
    assert span.attributes == {"snakepit.tool": "add", "snakepit.worker.id": "w-1",
                               "snakepit.correlation_id": "corr-123", "rpc.system": "grpc"}


def test_a_raising_tool_marks_the_span_as_an_error(provider):
    with pytest.raises(ValueError):
        with otel.tool_span(_call("boom"), FakeServicerContext({"traceparent": TRACEPARENT}), "w-1"):
            raise ValueError("bad input")
    [span] = provider.finished
    assert span.status is not None and span.status.status_code == trace.StatusCode.ERROR
    assert [type(e) for e in span.exceptions] == [ValueError]


def test_without_traceparent_the_span_starts_a_new_trace(provider):
    with otel.tool_span(_call(), FakeServicerContext({}), "w-1"):
        pass
    [span] = provider.finished
    assert span.parent is None and span.context.is_valid


def test_bootstrap_otlp_is_opt_in_and_reports_missing_packages(monkeypatch):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert otel.bootstrap_otlp() is False
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    try:
        import opentelemetry.exporter.otlp.proto.http  # noqa: F401
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        assert otel.bootstrap_otlp() is False  # missing SDK/exporter: a warning, never a crash
    else:
        pytest.skip("the OTLP exporter is installed: bootstrap would start a real exporter")
