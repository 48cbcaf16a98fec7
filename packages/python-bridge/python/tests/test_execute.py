"""Tool calls: describe, results and errors, async, streaming, cancellation, heartbeats, security."""

import json
import time
from pathlib import Path

import grpc
import pytest

from conftest import FIXTURES, WorkerFactory, args, decode, wait_until
from snakepit_bridge.gen import common_pb2, worker_pb2


@pytest.fixture(scope="module")
def shared_worker():
    factory = WorkerFactory()
    yield factory.spawn()
    factory.close()


@pytest.fixture
def worker(shared_worker):
    """One worker for this module's calls: they leave no state behind (asserted by in_flight checks)."""
    assert shared_worker.proc.poll() is None
    return shared_worker


def _tools(worker):
    return {t.name: t for t in worker.stub.DescribeTools(worker_pb2.DescribeToolsRequest(), timeout=5).tools}


def test_describe_tools_reads_signatures_and_docstrings(worker):
    tools = _tools(worker)
    add = tools["add"]
    assert add.description == "Add two integers."
    assert [(p.name, p.type, p.required, p.description) for p in add.parameters] == [
        ("a", "int", True, "The first addend."), ("b", "int", True, "The second addend.")]
    count = tools["count"]
    assert count.streaming and not count.is_async
    delay = {p.name: p for p in count.parameters}["delay"]
    assert not delay.required and json.loads(delay.default_value.data) == 0.0
    assert tools["async_sleep"].is_async and not tools["async_sleep"].streaming
    assert tools["async_count"].is_async and tools["async_count"].streaming
    assert {p.name: p.type for p in tools["bytes_len"].parameters} == {"data": "bytes"}
    assert {p.name: p.type for p in tools["echo"].parameters} == {"value": ""}


def test_module_level_tools_with_custom_name_and_description(workers):
    worker = workers.spawn(str(FIXTURES / "module_tools.py"))
    tools = _tools(worker)
    assert tools["upper"].description == "Upper-case a text."
    assert tools["greet"].parameters[0].description == "Who to greet."
    assert worker.call("greet") == "hello world"
    assert worker.call("upper", text="abc") == "ABC"


@pytest.mark.parametrize("value", [{"a": [1, 2.5, "é", None, True]}, "text", 42, [], {}])
def test_echo_round_trips_json(worker, value):
    response = worker.execute("echo", value=value)
    assert response.result.content_type == "application/json"
    assert decode(response.result) == value
    assert response.duration_ms >= 0


def test_bytes_travel_raw_both_ways(worker):
    response = worker.execute("echo", value=b"\x00\xffraw")
    assert response.result.content_type == "application/octet-stream"
    assert response.result.data == b"\x00\xffraw"
    assert worker.call("bytes_len", data=b"x" * 1000) == 1000


def test_none_has_an_empty_content_type(worker):
    response = worker.execute("echo")
    assert response.WhichOneof("outcome") == "result"
    assert response.result.content_type == "" and response.result.data == b""


def test_add(worker):
    assert worker.call("add", a=2, b=40) == 42


def _error(response) -> common_pb2.ToolError:
    assert response.WhichOneof("outcome") == "error"
    return response.error


def test_unknown_tool_lists_available_tools(worker):
    error = _error(worker.execute("nope"))
    assert (error.code, error.type) == ("TOOL_NOT_FOUND", "LookupError")
    assert "add" in error.message and "echo" in error.message


@pytest.mark.parametrize("kwargs", [{"a": 1}, {"a": 1, "b": 2, "c": 3}])
def test_bad_arguments_are_invalid_arguments(worker, kwargs):
    error = _error(worker.execute("add", **kwargs))
    assert error.code == "INVALID_ARGUMENTS"


def test_streaming_tool_through_execute_and_unary_through_stream_are_refused(worker):
    error = _error(worker.execute("count", n=3))
    assert error.code == "INVALID_ARGUMENTS" and "ExecuteStream" in error.message
    events = list(worker.stream("add", a=1, b=2))
    assert len(events) == 1 and events[0].error.code == "INVALID_ARGUMENTS"
    assert "Execute" in events[0].error.message


def test_user_exception_carries_type_message_and_traceback(worker):
    error = _error(worker.execute("fail", message="kaput"))
    assert (error.type, error.message, error.code) == ("ValueError", "kaput", "")
    assert "echo_adapter.py" in error.traceback and "raise ValueError(message)" in error.traceback


def test_tool_error_details(worker):
    error = _error(worker.execute("fail_with_details"))
    assert (error.type, error.message) == ("snakepit_bridge.ToolError", "quota exceeded")
    assert json.loads(error.details.data) == {"limit": 3}


def test_async_tool(worker):
    assert worker.call("async_sleep", seconds=0.05) == 0.05


def test_call_context_reaches_the_tool(worker):
    context = common_pb2.CallContext(call_id="c-1", session_id="", timeout_ms=5000, metadata={"k": "v"})
    result = decode(worker.execute("whoami", context=context,
                                   metadata=[("x-snakepit-correlation-id", "corr-7")]).result)
    assert result == {"call_id": "c-1", "correlation_id": "corr-7", "session_id": "", "metadata": {"k": "v"},
                      "timeout_ms": 5000}


@pytest.mark.parametrize("tool", ["count", "async_count"])
def test_streaming_yields_chunks_then_end(worker, tool):
    events = list(worker.stream(tool, n=4))
    assert [decode(e.chunk) for e in events[:-1]] == [0, 1, 2, 3]
    assert events[-1].WhichOneof("event") == "end" and events[-1].end.chunks == 4


@pytest.mark.parametrize("tool", ["count", "async_count"])
def test_cancelling_a_stream_closes_the_generator(worker, workers, tool):
    marker = Path(workers.dir) / f"{tool}.closed"
    call = worker.stream(tool, n=1000, delay=0.05, marker=str(marker))
    assert [decode(next(call).chunk) for _ in range(3)] == [0, 1, 2]
    call.cancel()
    assert wait_until(marker.exists, 5), "the generator's finally block did not run"
    assert wait_until(lambda: _heartbeat(worker).in_flight == 0, 5)


def _heartbeat(worker, sequence=1):
    return worker.stub.Heartbeat(worker_pb2.HeartbeatRequest(sequence=sequence), timeout=5)


@pytest.mark.parametrize("tool", ["sleep", "async_sleep"])
def test_deadline_cancels_a_unary_call(worker, tool):
    with pytest.raises(grpc.RpcError) as info:
        worker.execute(tool, seconds=30, timeout=0.3)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The tool noticed the cancellation: it is no longer in flight long before its 30 s.
    assert wait_until(lambda: _heartbeat(worker).in_flight == 0, 3)


def test_client_cancel_cancels_a_unary_call(worker):
    future = worker.stub.Execute.future(worker_pb2.ExecuteRequest(tool="sleep", arguments=args(seconds=30)))
    assert wait_until(lambda: _heartbeat(worker).in_flight == 1, 5)
    future.cancel()
    assert wait_until(lambda: _heartbeat(worker).in_flight == 0, 3)


def test_heartbeat_is_answered_quickly_while_a_tool_burns_cpu(worker):
    before = _heartbeat(worker).calls_served
    future = worker.stub.Execute.future(worker_pb2.ExecuteRequest(tool="cpu_burn", arguments=args(seconds=2.5)))
    assert wait_until(lambda: _heartbeat(worker).in_flight == 1, 5)
    latencies = []
    for sequence in range(10):
        started = time.perf_counter()
        response = _heartbeat(worker, sequence)
        latencies.append(time.perf_counter() - started)
        assert response.sequence == sequence and response.in_flight == 1
        time.sleep(0.05)
    # Answered while the 2.5 s burn runs, not after it: a bound far below the burn, loose enough for a
    # loaded machine (a timed bound near the typical latency only measures the machine's load).
    assert max(latencies) < 1.0, latencies
    assert future.result(timeout=20).WhichOneof("outcome") == "result"
    # heartbeats and pings are not calls
    assert _heartbeat(worker).calls_served == before + 1


def test_secret_is_required_when_configured(workers):
    worker = workers.spawn(env={"SNAKEPIT_SECRET": "s3cret"})
    for rpc in (lambda: worker.stub.Ping(worker_pb2.PingRequest(), timeout=5),
                lambda: list(worker.stream("count", n=2)),
                lambda: worker.execute("add", a=1, b=2)):
        with pytest.raises(grpc.RpcError) as info:
            rpc()
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    worker.metadata = [("x-snakepit-secret", "wrong")]
    with pytest.raises(grpc.RpcError):
        worker.execute("add", a=1, b=2)
    worker.metadata = [("x-snakepit-secret", "s3cret")]
    assert worker.call("add", a=1, b=2) == 3
    assert len(list(worker.stream("count", n=2))) == 3


def test_log_records_go_to_the_control_socket_with_the_correlation_id_of_the_call(worker):
    worker.execute("log", message="hello from a tool", metadata=[("x-snakepit-correlation-id", "corr-42")])
    assert wait_until(lambda: any(r["msg"] == "hello from a tool" for r in worker.log_records()), 5)
    record = next(r for r in worker.log_records() if r["msg"] == "hello from a tool")
    assert record["correlation_id"] == "corr-42" and record["pid"] == worker.pid
    assert record["level"] == "info" and record["logger"] == "echo_adapter"
    assert "hello from a tool" not in worker.output(), "records never go to stderr"


def test_printed_text_is_never_a_record(workers):
    worker = workers.spawn(f"{FIXTURES / 'hostile_adapter.py'}:HostileAdapter")
    forged = '{"event":"log","level":"error","msg":"forged","correlation_id":"someone-else"}'
    for stream in ("stdout", "stderr"):
        worker.call("print_text", text=f"plain\n{forged}", stream=stream)
    worker.call("ok")
    assert wait_until(lambda: worker.output().count("forged") == 1, 5)
    assert not [r for r in worker.log_records() if r["msg"] == "forged"]


def test_shutdown_rpc_drains_and_exits_zero(workers):
    worker = workers.spawn()
    slow = worker.stub.Execute.future(worker_pb2.ExecuteRequest(tool="sleep", arguments=args(seconds=0.3)))
    assert wait_until(lambda: _heartbeat(worker).in_flight == 1, 5)
    worker.stub.Shutdown(worker_pb2.ShutdownRequest(grace_ms=2000), timeout=10)
    assert decode(slow.result(timeout=5).result) == 0.3  # the in-flight call finished within the grace
    assert worker.proc.wait(timeout=10) == 0
    assert not Path(worker.address[5:]).exists()


def test_a_crashing_tool_ends_the_worker(workers):
    worker = workers.spawn()
    with pytest.raises(grpc.RpcError):
        worker.execute("crash", code=3)
    assert worker.proc.wait(timeout=10) == 3
