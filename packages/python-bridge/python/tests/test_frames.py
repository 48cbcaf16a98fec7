"""The frames transport's worker side, in process: envelope bytes, control path, cancel, credit, bad input."""

import socket
import time
from typing import Optional, Set

import pytest

from conftest import ECHO, args, decode, wait_until
from snakepit_bridge._internal.adapter import load_adapter
from snakepit_bridge._internal.event_loop import EventLoopThread
from snakepit_bridge._internal.frame_server import FrameServer
from snakepit_bridge._internal.inline_policy import InlinePolicy
from snakepit_bridge._internal.wire import envelope, envelope_parts, result_frame, serialized_result
from snakepit_bridge._internal.call_tracker import CallTracker
from snakepit_bridge._internal.tool_call import ToolRunner
from snakepit_bridge.gen import common_pb2, frame_pb2, worker_pb2

LIMIT = 1024 * 1024


class Host:
    """The host's end of the socketpair: writes request frames, reads answers by call id."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.server: "FrameServer | None" = None  # the server at the other end, for its policy
        self.policy: "_TimedPolicy | None" = None  # its policy, when a test gave it one
        sock.settimeout(20)

    def send(self, frame: frame_pb2.Frame) -> None:
        body = frame.SerializeToString()
        self.sock.sendall(len(body).to_bytes(4, "big") + body)

    def read(self) -> frame_pb2.Frame:
        while True:
            if len(self.buf) >= 4:
                size = int.from_bytes(self.buf[:4], "big")
                if len(self.buf) >= 4 + size:
                    frame = frame_pb2.Frame.FromString(self.buf[4:4 + size])
                    self.buf = self.buf[4 + size:]
                    return frame
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def eof(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True


class _TimedPolicy(InlinePolicy):
    """An `InlinePolicy` that notes each tool it has timed. A call thread times its call after the
    result went out, so the host may read a result before its tool is known: a test waits for
    `timed` before it counts on the next call running on the serving thread.

    It counts any tool under 1 s of CPU per call as quick, and a serving-thread call as slow from
    0.25 s of wall time: with the defaults (0.5 ms, 5 ms) whether an echo is learnt as quick would
    depend on the machine's load. The thresholds themselves are tested in test_inline_policy.py;
    these tests check which thread the server runs a call on.
    """

    def __init__(self) -> None:
        super().__init__(under_s=1.0, slow_s=0.25)
        self.timed: Set[str] = set()

    def ran(self, tool: str, cpu_s: float, wall_s: float, inline: bool) -> None:
        super().ran(tool, cpu_s, wall_s, inline)
        self.timed.add(tool)


def _serve(concurrency: int, policy: Optional[_TimedPolicy] = None):
    adapter = load_adapter(ECHO)
    loop = EventLoopThread()
    tracker = CallTracker("w-frames", concurrency)
    runner = ToolRunner(adapter, "w-frames", loop, None, None, tracker, LIMIT)
    host_end, worker_end = socket.socketpair()
    closed = []
    server = FrameServer(worker_end, runner, tracker, concurrency, LIMIT, on_shutdown=lambda: None,
                         on_closed=lambda reason, eof: closed.append(reason), policy=policy)
    server.start()
    host = Host(host_end)
    host.server = server
    host.policy = policy
    yield host, closed
    server.stop()
    host_end.close()
    loop.stop()


@pytest.fixture
def served():
    """A process-profile worker's frame server (one call at a time)."""
    yield from _serve(1)


@pytest.fixture
def served_threads():
    """A thread-profile worker's frame server with four call threads and a `_TimedPolicy`."""
    yield from _serve(4, _TimedPolicy())


def execute(call_id: int, tool: str, **kwargs) -> frame_pb2.Frame:
    return frame_pb2.Frame(call_id=call_id, execute=worker_pb2.ExecuteRequest(tool=tool, arguments=args(**kwargs)),
                           correlation_id=f"corr-{call_id}")


@pytest.mark.parametrize("call_id", [0, 1, 127, 128, 300, 2**32 - 1])
@pytest.mark.parametrize("kind, message", [
    ("pong", worker_pb2.PingResponse(message="ü", worker_id="w", pid=7)),
    ("heartbeat_ack", worker_pb2.HeartbeatResponse(sequence=2**63, in_flight=1)),
    ("execute_result", worker_pb2.ExecuteResponse(result=common_pb2.Payload(content_type="application/json"))),
    ("execute_result", worker_pb2.ExecuteResponse(
        result=common_pb2.Payload(content_type="application/octet-stream", data=b"\0" * 300_000))),
    ("stream_event", worker_pb2.ExecuteStreamResponse(end=worker_pb2.StreamEnd(chunks=3))),
    ("shutdown_done", worker_pb2.ShutdownResponse()),
    ("failed", frame_pb2.CallFailed(code="PAYLOAD_TOO_LARGE", message="x")),
])
def test_the_hand_written_envelope_is_byte_identical_to_protobuf(call_id, kind, message):
    header, body = envelope(call_id, kind, message.SerializeToString())
    expected = frame_pb2.Frame(call_id=call_id, **{kind: message}).SerializeToString()
    assert int.from_bytes(header[:4], "big") == len(expected)
    assert header[4:] + body == expected


def test_the_correlation_id_field_and_the_call_context_reach_the_tool(served):
    host, _ = served
    request = frame_pb2.Frame(call_id=1, correlation_id="corr-7", metadata={"traceparent": "x"},
                              execute=worker_pb2.ExecuteRequest(tool="whoami", context=common_pb2.CallContext(
                                  call_id="c-1", timeout_ms=5000, metadata={"k": "v"})))
    host.send(request)
    assert decode(host.read().execute_result.result) == {
        "call_id": "c-1", "correlation_id": "corr-7", "session_id": "", "metadata": {"k": "v"}, "timeout_ms": 5000}


def test_answers_calls_and_heartbeats_while_a_sync_tool_runs(served):
    host, _ = served
    host.send(execute(1, "cpu_burn", seconds=1.0))
    time.sleep(0.1)
    started = time.monotonic()
    host.send(frame_pb2.Frame(call_id=2, heartbeat=worker_pb2.HeartbeatRequest(sequence=9)))
    ack = host.read()
    assert ack.call_id == 2 and ack.heartbeat_ack.sequence == 9 and ack.heartbeat_ack.in_flight == 1
    assert time.monotonic() - started < 0.9  # answered by the reader thread, not after the tool
    result = host.read()
    assert result.call_id == 1 and result.execute_result.WhichOneof("outcome") == "result"


def test_after_an_idle_spell_heartbeats_are_still_answered_while_a_sync_tool_runs(served):
    host, _ = served
    time.sleep(1.5)  # past the standby thread's idle ticks: it sleeps until a call starts
    host.send(execute(1, "cpu_burn", seconds=1.0))
    time.sleep(0.1)
    started = time.monotonic()
    host.send(frame_pb2.Frame(call_id=2, heartbeat=worker_pb2.HeartbeatRequest(sequence=3)))
    ack = host.read()
    assert ack.call_id == 2 and ack.heartbeat_ack.in_flight == 1
    assert time.monotonic() - started < 0.9
    assert host.read().call_id == 1


def test_pipelined_quick_results_share_a_write_but_never_wait_behind_a_long_call(served):
    host, _ = served
    for i in range(1, 4):  # the server learns that echo and cpu_burn are quick
        host.send(execute(i, "echo", value=i))
        assert host.read().call_id == i
        host.send(execute(100 + i, "cpu_burn", seconds=0))
        assert host.read().call_id == 100 + i
    # Three quick calls in one write: their results may travel together, all promptly.
    host.sock.sendall(b"".join(_framed(execute(i, "echo", value=i)) for i in (10, 11, 12)))
    assert sorted(host.read().call_id for _ in range(3)) == [10, 11, 12]
    # A quick call, then one of a usually quick tool that runs long this time: the first result,
    # held back for a shared write, is not held for the second's whole run (the standby thread
    # writes it within a couple of 25 ms ticks).
    host.sock.sendall(_framed(execute(20, "echo", value=1)) + _framed(execute(21, "cpu_burn", seconds=1.0)))
    started = time.monotonic()
    first = host.read()
    assert first.call_id == 20
    assert time.monotonic() - started < 0.5
    assert host.read().call_id == 21


def _framed(frame: frame_pb2.Frame) -> bytes:
    body = frame.SerializeToString()
    return len(body).to_bytes(4, "big") + body


def test_a_call_cancelled_while_it_waits_in_the_queue_never_runs(served):
    host, _ = served
    host.send(execute(1, "sleep", seconds=0.5))
    host.send(execute(2, "whoami"))
    host.send(frame_pb2.Frame(call_id=2, cancel=frame_pb2.CancelCall()))
    answers = {f.call_id: f for f in (host.read(), host.read())}
    assert answers[2].execute_result.error.code == "ABORTED"
    assert answers[1].execute_result.WhichOneof("outcome") == "result"


def test_a_call_cancelled_in_the_window_is_answered_at_once_not_after_the_running_call(served):
    host, _ = served
    host.send(execute(1, "sleep", seconds=1.0))
    host.send(execute(2, "whoami"))
    time.sleep(0.1)  # both read: 1 runs, 2 waits behind it
    started = time.monotonic()
    host.send(frame_pb2.Frame(call_id=2, cancel=frame_pb2.CancelCall()))
    answer = host.read()
    assert answer.call_id == 2 and answer.execute_result.error.code == "ABORTED"
    assert time.monotonic() - started < 0.5  # not after the sleep
    host.send(frame_pb2.Frame(call_id=3, heartbeat=worker_pb2.HeartbeatRequest(sequence=1)))
    assert host.read().heartbeat_ack.in_flight == 1  # only the running call is held
    assert host.read().call_id == 1


def test_a_cancel_reaches_a_running_tool(served):
    host, _ = served
    host.send(execute(1, "sleep", seconds=30))
    time.sleep(0.1)
    started = time.monotonic()
    host.send(frame_pb2.Frame(call_id=1, cancel=frame_pb2.CancelCall()))
    assert host.read().call_id == 1
    assert time.monotonic() - started < 5


def test_a_stream_sends_no_more_chunks_than_its_credit(served):
    host, _ = served
    host.send(frame_pb2.Frame(call_id=5, execute_stream=worker_pb2.ExecuteStreamRequest(
        tool="count", arguments=args(n=10))))
    host.send(frame_pb2.Frame(call_id=5, credit=frame_pb2.StreamCredit(chunks=2)))
    assert [host.read().stream_event.WhichOneof("event") for _ in range(2)] == ["chunk", "chunk"]
    host.sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        host.read()
    host.sock.settimeout(20)
    host.send(frame_pb2.Frame(call_id=5, credit=frame_pb2.StreamCredit(chunks=100)))
    events = [host.read().stream_event for _ in range(9)]
    assert [e.WhichOneof("event") for e in events] == ["chunk"] * 8 + ["end"]


@pytest.mark.parametrize("data", [
    (LIMIT + 1).to_bytes(4, "big"),  # oversized: refused from the header alone
    (3).to_bytes(4, "big") + b"\xff\xff\xff",  # malformed
    (2).to_bytes(4, "big") + frame_pb2.Frame(call_id=1, pong=worker_pb2.PingResponse()).SerializeToString()[:2],
])
def test_bad_input_closes_the_connection(served, data):
    host, closed = served
    host.sock.sendall(data)
    assert wait_until(lambda: bool(closed), 5)
    assert "protocol error" in closed[0] or "frame" in closed[0]
    assert host.eof()


def test_eof_inside_a_frame_is_a_protocol_error(served):
    host, closed = served
    host.sock.sendall((100).to_bytes(4, "big") + b"\x08")
    host.sock.shutdown(socket.SHUT_WR)
    assert wait_until(lambda: bool(closed), 5)
    assert "protocol error" in closed[0]


@pytest.mark.parametrize("content_type, data", [
    ("", b""), ("application/json", b""), ("application/json", b'"x"'), ("application/octet-stream", b"\0" * 300),
    ("application/json", b"x" * 126), ("application/json", b"x" * 4095), ("application/json", b"x" * 4096),
    ("application/json", "ü€😀".encode() * 50_000), ("tÿpe/ü", b"\xff"),
])
@pytest.mark.parametrize("duration_ms", [0.0, 0.001, 1.5, 123456.789, 1e300])
def test_a_hand_serialised_result_is_byte_identical_to_protobuf(content_type, data, duration_ms):
    expected = worker_pb2.ExecuteResponse(
        result=common_pb2.Payload(content_type=content_type, data=data), duration_ms=duration_ms).SerializeToString()
    assert b"".join(serialized_result(content_type, data, duration_ms)) == expected
    framed = b"".join(envelope_parts(77, "execute_result", serialized_result(content_type, data, duration_ms),
                                     len(expected)))
    parsed = frame_pb2.Frame.FromString(framed[4:])
    assert int.from_bytes(framed[:4], "big") == len(framed) - 4
    assert parsed.call_id == 77 and parsed.execute_result.SerializeToString() == expected
    for call_id in (0, 1, 127, 128, 2**32 - 1):
        parts, size = result_frame(call_id, content_type, data, duration_ms)
        whole = frame_pb2.Frame(call_id=call_id, execute_result=worker_pb2.ExecuteResponse.FromString(expected))
        assert size == len(expected)
        assert b"".join(parts) == len(whole.SerializeToString()).to_bytes(4, "big") + whole.SerializeToString()


def test_arguments_are_checked_by_name_without_bind_and_with_it():
    from snakepit_bridge._internal.errors import BridgeError
    from snakepit_bridge._internal.tools import ToolDefinition, tool

    @tool
    def kw(a, b=1, *, c):
        return a, b, c

    @tool
    def pos(a, /, b=2):
        return a, b

    @tool
    def anything(a, **rest):
        return a, rest

    fast = ToolDefinition.from_callable(kw)
    assert fast.arguments({"a": 1, "c": 3}) == ((), {"a": 1, "c": 3})
    for wrong in ({"c": 3}, {"a": 1}, {"a": 1, "c": 3, "d": 4}):
        with pytest.raises(BridgeError, match="Invalid arguments for tool 'kw'"):
            fast.arguments(wrong)
    assert ToolDefinition.from_callable(anything).arguments({"a": 1, "z": 2}) == ((), {"a": 1, "z": 2})
    # A positional-only parameter cannot be given by name: `bind` says so.
    with pytest.raises(BridgeError, match="positional only"):
        ToolDefinition.from_callable(pos).arguments({"a": 1})


def test_a_new_call_carries_every_field_of_the_request():
    from snakepit_bridge._internal.session import SessionContext
    tracker = CallTracker("w", 1)
    host_call = object()
    runner = ToolRunner(load_adapter(ECHO), "w", None, object(), host_call, tracker, LIMIT)  # type: ignore[arg-type]
    request = worker_pb2.ExecuteRequest(tool="tööl", context=common_pb2.CallContext(
        call_id="c-1", session_id="s-1", timeout_ms=2500, metadata={"k": "v", "ü": ""}))
    call = runner.new_call(request, "corr-1")
    assert (call.call_id, call.correlation_id, call.session_id, call.timeout_ms, call.metadata, call.tool) == \
        ("c-1", "corr-1", "s-1", 2500, {"k": "v", "ü": ""}, "tööl")
    assert call._host_call is host_call and isinstance(call.session, SessionContext)
    bare = runner.new_call(worker_pb2.ExecuteRequest(), "")
    assert (bare.call_id, bare.session_id, bare.timeout_ms, bare.metadata, bare.session, bare.tool) == \
        ("", "", 0, {}, None, "")
    assert not bare.is_cancelled


def test_pipelined_results_large_and_small_arrive_whole_when_the_host_reads_slowly(served):
    host, _ = served
    batches = [[b"a" * 600_000, "ü" * 3, b"", b"b" * 5000], ["x" * 4096, None, b"c" * 300_000, "y" * 4095]]
    for n, values in enumerate(batches):  # a window of 4 (the fixture's admission limit) at a time
        first = 1 + 4 * n
        host.sock.sendall(b"".join(_framed(execute(first + i, "echo", value=v)) for i, v in enumerate(values)))
        time.sleep(0.3)  # the worker's writes fill the socket buffer: partial `sendmsg`s
        for i, value in enumerate(values):
            result = host.read()
            assert result.call_id == first + i and result.execute_result.WhichOneof("outcome") == "result"
            assert decode(result.execute_result.result) == value


def _thread_of(host: Host, call_id: int) -> str:
    host.send(execute(call_id, "thread_name"))
    answer = host.read()
    assert answer.call_id == call_id
    return decode(answer.execute_result.result)


def test_thread_profile_runs_a_tool_known_to_be_quick_on_the_serving_thread(served_threads):
    host, _ = served_threads
    assert _thread_of(host, 1).startswith("snakepit-call-")  # not known yet: a call thread
    assert wait_until(lambda: "thread_name" in host.policy.timed, 5)
    names = [_thread_of(host, i) for i in range(2, 6)]
    assert names == ["snakepit-frames"] * 4


def test_thread_profile_a_quick_tool_that_blocks_once_holds_up_no_call_read_with_it(served_threads):
    host, _ = served_threads
    for i in range(1, 4):  # sleep(0) and thread_name are learnt as quick
        host.send(execute(i, "sleep", seconds=0))
        assert host.read().call_id == i
        _thread_of(host, 10 + i)
    assert wait_until(lambda: {"sleep", "thread_name"} <= host.policy.timed, 5)
    # One read brings a long sleep and three quick calls: the sleep runs on the serving thread,
    # and the calls read with it go to the call threads after a tick instead of waiting 1 s.
    host.sock.sendall(_framed(execute(20, "sleep", seconds=1.0))
                      + b"".join(_framed(execute(i, "thread_name")) for i in (21, 22, 23)))
    started = time.monotonic()
    quick = [host.read() for _ in range(3)]
    assert time.monotonic() - started < 0.5
    assert sorted(f.call_id for f in quick) == [21, 22, 23]
    assert all(decode(f.execute_result.result).startswith("snakepit-call-") for f in quick)
    assert host.read().call_id == 20
    # The standby thread, reader while the sleep ran, is still waiting in recv: what arrives next
    # is read there and goes to a call thread. One call first, so the serving thread reads again
    # (CI once sent calls 30 and 31 into that one read).
    _thread_of(host, 25)
    # The slow run bars sleep from the serving thread: its next call runs on a call thread
    # while quick calls still run on the serving thread.
    host.send(execute(30, "sleep", seconds=0.3))
    time.sleep(0.05)
    started = time.monotonic()
    assert _thread_of(host, 31) == "snakepit-frames"
    assert time.monotonic() - started < 0.2
    assert host.read().call_id == 30


def test_thread_profile_never_runs_an_async_tool_on_the_serving_thread(served_threads):
    host, _ = served_threads
    assert host.server is not None
    for i in range(1, 4):
        host.send(execute(i, "async_sleep", seconds=0))
        assert host.read().call_id == i
        _thread_of(host, 10 + i)
    assert wait_until(lambda: "thread_name" in host.policy.timed, 5)
    # On its call thread an async tool costs the CPU of handing it to the event loop, which may
    # or may not be under the policy's bar: make it look quick, as it may on a faster machine.
    for _ in range(50):
        host.server._policy.ran("async_sleep", 0.0, 0.0, False)
    # Were the async call run on the serving thread, that thread would wait there for the event
    # loop, and the quick call read with it would be handed to a call thread after a tick.
    host.sock.sendall(_framed(execute(20, "async_sleep", seconds=0.5)) + _framed(execute(21, "thread_name")))
    quick = host.read()
    assert quick.call_id == 21 and decode(quick.execute_result.result) == "snakepit-frames"
    assert host.read().call_id == 20
