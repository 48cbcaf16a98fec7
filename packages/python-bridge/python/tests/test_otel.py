"""Tool spans continue the host's W3C trace; without a tracer provider they cost nothing.

The SDK (`opentelemetry-sdk`) is not in the dev requirements' reach here, so the test records spans
with a small in-memory tracer written against the public `opentelemetry-api` interfaces, the same
ones the SDK implements.
"""

from __future__ import annotations

import sys
from typing import Dict

import pytest

trace = pytest.importorskip("opentelemetry.trace")

from conftest import FIXTURES  # noqa: E402 - only once opentelemetry is known to be installed
from snakepit_bridge._internal import otel  # noqa: E402 - only once opentelemetry is known to be installed
from snakepit_bridge._internal.call_context import CallContext  # noqa: E402 - only once opentelemetry is known to be installed
from snakepit_bridge.gen.constants import CORRELATION_ID_METADATA  # noqa: E402 - only once opentelemetry is known to be installed

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"


sys.path.insert(0, str(FIXTURES))
from inmemory_tracing import InMemoryTracerProvider  # noqa: E402 - needs the sys.path entry above


class FakeServicerContext:
    """The part of `grpc.ServicerContext` the hook reads."""

    def __init__(self, metadata: Dict[str, str]) -> None:
        self._metadata = tuple(metadata.items())

    def invocation_metadata(self):
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
        CORRELATION_ID_METADATA: "corr-123",
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
    context = FakeServicerContext({"traceparent": TRACEPARENT})
    with pytest.raises(ValueError), otel.tool_span(_call("boom"), context, "w-1"):
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
        import opentelemetry.exporter.otlp.proto.http
        import opentelemetry.sdk.trace  # noqa: F401 - probes whether the SDK is installed
    except ImportError:
        assert otel.bootstrap_otlp() is False  # missing SDK/exporter: a warning, never a crash
    else:
        pytest.skip("the OTLP exporter is installed: bootstrap would start a real exporter")
