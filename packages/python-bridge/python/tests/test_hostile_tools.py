"""Tools that misbehave: BaseExceptions in every tool kind, non-JSON results, a broken event loop.

Every call must end with an answer (a `ToolError`) and the worker must keep serving.
"""

import pytest

from conftest import FIXTURES, WorkerFactory, decode

HOSTILE = f"{FIXTURES / 'hostile_adapter.py'}:HostileAdapter"
KINDS = [("exit", "SystemExit", "3"), ("keyboard", "KeyboardInterrupt", "interrupted by the tool"),
         ("generator_exit", "GeneratorExit", "generator exit raised by the tool"),
         ("custom", "hostile_adapter.CustomBaseException", "custom base exception")]


@pytest.fixture(scope="module")
def hostile():
    factory = WorkerFactory()
    yield factory.spawn(HOSTILE)
    factory.close()


def _still_serves(worker) -> None:
    assert worker.proc.poll() is None
    assert worker.call("ok", value="still here", timeout=5) == "still here"
    assert worker.call("async_ok", value="loop runs", timeout=5) == "loop runs"


@pytest.mark.parametrize(("kind", "type_name", "message"), KINDS)
@pytest.mark.parametrize("tool", ["raise_base", "async_raise_base"])
def test_a_base_exception_from_a_unary_tool_is_a_tool_error(hostile, tool, kind, type_name, message):
    response = hostile.execute(tool, kind=kind, timeout=10)
    assert response.WhichOneof("outcome") == "error"
    error = response.error
    assert (error.type, error.message, error.code) == (type_name, message, "")
    assert "hostile_adapter.py" in error.traceback
    _still_serves(hostile)


@pytest.mark.parametrize(("kind", "type_name", "message"), KINDS)
@pytest.mark.parametrize("tool", ["stream_raise_base", "async_stream_raise_base"])
def test_a_base_exception_from_a_streaming_tool_ends_the_stream_with_a_tool_error(hostile, tool, kind, type_name,
                                                                                    message):
    events = list(hostile.stream(tool, kind=kind, timeout=10))
    assert [e.WhichOneof("event") for e in events] == ["chunk", "error"]
    assert decode(events[0].chunk) == 1
    assert (events[1].error.type, events[1].error.message) == (type_name, message)
    _still_serves(hostile)


@pytest.mark.parametrize("kind", ["exit", "keyboard", "custom"])
def test_a_base_exception_raised_on_the_event_loop_itself_does_not_stop_it(hostile, kind):
    assert hostile.call("stop_the_loop", kind=kind, timeout=10) == "scheduled"
    _still_serves(hostile)


@pytest.mark.parametrize(("kind", "shown", "path"), [("nan", "nan", "$"), ("inf", "inf", "$"), ("-inf", "-inf", "$"),
                                                     ("nested", "nan", "$.stats.ratios[1]")])
def test_a_non_json_float_result_is_a_tool_error_naming_the_tool_the_value_and_where(hostile, kind, shown, path):
    error = hostile.execute("not_json", kind=kind, timeout=10).error
    assert (error.type, error.code) == ("ValueError", "")
    assert "'not_json'" in error.message and f"{shown} at {path}" in error.message
    _still_serves(hostile)


def test_a_non_json_float_chunk_ends_the_stream_with_a_tool_error(hostile):
    events = list(hostile.stream("stream_not_json", timeout=10))
    assert [e.WhichOneof("event") for e in events] == ["chunk", "error"]
    assert "'stream_not_json'" in events[1].error.message and "inf at $" in events[1].error.message
