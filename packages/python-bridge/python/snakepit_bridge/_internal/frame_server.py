"""The frames transport's worker side: the WorkerService over length-prefixed `Frame`s on an
inherited socket (see proto/snakepit/bridge/v1/frame.proto), without grpcio on the hot path.

Threads, process profile (one call at a time):
- the serving thread (`snakepit-frames`) reads every complete frame received, answers control
  frames (ping, heartbeat, describe, cancel, credit) and runs calls itself, in order, with no
  hand-off: calls the host sent ahead (its pipeline window) are read in one `recv` and wait in
  `_pending`, so Python never idles for a round trip between calls;
- a standby thread (`snakepit-frames-standby`) takes the reader role while the serving thread is
  inside one tool for longer than a tick (`_STANDBY_S`), or at once when a stream waits for
  credit, so a heartbeat or a cancel is answered while a sync tool runs.
Threads, thread profile: the same two, plus `concurrency` call threads (`snakepit-call-N`). A
unary call of a sync tool known to be quick (`InlinePolicy`) that the serving thread itself read runs
on the serving thread, as in the process profile: a hand-off to a call thread and back costs more
than such a tool. Every other call (a tool not seen yet, a slower one, a stream, a call the standby
thread read) goes to the call threads, and so do the quick calls still waiting when the serving
thread has been inside one tool for a tick. Async tools run on the worker's event loop in both
profiles.

Frames are read by `FrameReader`, written by `FrameWriter` (coalesced `sendmsg`), a unary result's
whole frame serialised by hand in one step (`wire.result_frame`). Whether calls are traced is looked
up once per read, not per call, and a call without tracing enters no span context. A malformed,
truncated or oversized frame closes the connection; so does EOF. Either way the worker terminates
(`on_closed`) and the host fails the calls on it.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import socket
import threading
import time
from typing import Any, Callable, ContextManager, Dict, List, Optional

from . import otel
from .call_context import CallContext
from .errors import error_to_proto
from ..gen import frame_pb2, worker_pb2
from .call_tracker import CallTracker
from .frame_reader import FrameReader, ProtocolError
from .frame_writer import FrameWriter
from .inline_policy import InlinePolicy
from .stream_credit import StreamCredit
from .tool_call import ToolRunner, PayloadTooLargeError
from .wire import envelope, result_frame

log = logging.getLogger("snakepit_bridge.frames")

# How often the process profile's standby thread checks whether the serving thread is inside a
# tool (and so cannot read): a heartbeat or cancel waits at most about two ticks behind a tool.
_STANDBY_S = 0.025
# Ticks without a call after which the standby thread sleeps until the next call starts (1 s).
_STANDBY_IDLE_TICKS = 40
# A result may wait for the next one (to share its write) only when the next call's tool usually
# takes less than this.
_HOLD_UNDER_S = 0.0005
# How many results may be held back: half the calls already waiting behind them, at least one and
# at most 16. The batch goes out while the calls behind it still run, so the host's next calls
# arrive before the worker runs out of work (it never idles for a round trip, as it would if a
# whole window's results went out together at its end), and a deep window gives big batches: one
# sendmsg, and one wake-up of the host, per batch. Measured (1 worker, c=64, window 32, alternating
# runs): pairs only 31.6-31.9k calls/s, Python 18.0-18.2 µs and host 12.4-13.1 µs CPU per call;
# up to 16: 36.9-37.3k, 15.7-15.8 µs and 10.8-11.6 µs.
_HOLD_AT_LEAST = 1
_HOLD_AT_MOST = 16


class _Call:
    __slots__ = ("call", "call_id", "frame", "request", "stream")

    def __init__(self, call_id: int, frame: Any, request: Any, call: CallContext,
                 stream: Optional[StreamCredit]) -> None:
        self.call_id = call_id
        self.frame = frame
        self.request = request  # the frame's `execute` or `execute_stream`
        self.call = call
        self.stream = stream


_STOP = object()


class FrameServer:
    """Serves one connection (the host's end of the socketpair) until EOF, a protocol error or
    `stop()`. `on_closed(reason, eof)` runs once when the connection ends by itself: `eof` is
    true when the host closed it (or it failed), false for a protocol error. `policy` decides which
    thread-profile calls run on the serving thread (default: `InlinePolicy()`)."""

    def __init__(self, sock: socket.socket, runner: ToolRunner, tracker: CallTracker, concurrency: int,
                 max_message_bytes: int, on_shutdown: Callable[[], None],
                 on_closed: Callable[[str, bool], None], policy: Optional[InlinePolicy] = None) -> None:
        self._sock = sock
        self._runner = runner
        self._tracker = tracker
        self._limit = max_message_bytes
        self._on_shutdown = on_shutdown
        self._on_closed = on_closed
        self._writer = FrameWriter(sock)
        # Calls by id. Only ever changed by single dict operations (atomic under the GIL), so no lock.
        self._calls: Dict[int, _Call] = {}
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._closed = threading.Event()
        self._reader = FrameReader(sock, max_message_bytes)
        # The process profile (one call at a time) runs a call on the thread that read it: no
        # hand-off, no lock passed per call. While that thread is inside a tool for longer than one
        # `_STANDBY_S` tick, a standby thread takes the reader role until the tool returns, so
        # heartbeats, cancels and stream credit are still read and answered.
        self._inline = concurrency == 1
        self._reader_lock = threading.Lock()
        self._pending: "collections.deque[_Call]" = collections.deque()
        self._in_tool = False
        self._tool_seq = 0
        self._standby_wake = threading.Event()
        self._standby_asleep = False  # the standby thread waits without a timeout (worker idle)
        self._reader_wanted = False  # a stream waits for credit: take the reader role now
        # Seconds each tool took, a moving average: a result is held back for one write with the
        # next ones only while the next call waiting is of a tool that is usually quick.
        self._durations: Dict[str, float] = {}
        self._held = 0  # results held back since the last write
        self._traced = False  # a tracer provider is set (see `_read_once`)
        self._call_threads = 0 if self._inline else concurrency
        self._policy = policy if policy is not None else InlinePolicy()
        # Async tools never run on the serving thread: it would wait there for the event loop.
        self._async_tools = frozenset(name for name, t in runner.adapter.tools.items() if t.is_async)
        self._serving_ident = 0  # the serving thread's `threading.get_ident()`, once it runs
        self._threads = [threading.Thread(target=self._serve_inline, name="snakepit-frames", daemon=True),
                         threading.Thread(target=self._standby, name="snakepit-frames-standby", daemon=True)]
        self._threads += [threading.Thread(target=self._call_loop, name=f"snakepit-call-{i}", daemon=True)
                          for i in range(self._call_threads)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def drain(self, grace_s: float, settle_s: float = 0.5) -> None:
        self._tracker.drain(grace_s, settle_s)

    def stop(self) -> None:
        """Closes the connection and ends the call threads (the tools they run are cancelled)."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._standby_wake.set()
        calls = list(self._calls.values())  # one C call under the GIL: no torn read
        for entry in calls:
            entry.call.cancel()
        for _ in range(self._call_threads):
            self._queue.put(_STOP)
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- reading --------------------------------------------------------------------------------

    def _serve_inline(self) -> None:
        """The serving thread: runs what was read to run here (`_pending`), else reads."""
        pending, lock, closed = self._pending, self._reader_lock, self._closed
        calls, durations, perf_counter = self._calls, self._durations, time.perf_counter
        policy, thread_time = self._policy, time.thread_time
        self._serving_ident = threading.get_ident()
        while not closed.is_set():
            if pending:
                entry = pending.popleft()
                self._tool_seq += 1
                self._in_tool = True  # (set before `_standby_asleep` is read: see `_standby`)
                if self._standby_asleep:
                    self._standby_asleep = False
                    self._standby_wake.set()  # once per idle spell, not per call
                started = perf_counter()
                cpu = thread_time() if self._call_threads else 0.0
                try:
                    self._run(entry, True)
                except BaseException:
                    log.exception("frame call %d failed outside its tool", entry.call_id)
                finally:
                    calls.pop(entry.call_id, None)
                    self._in_tool = False
                    tool = entry.call.tool
                    took = perf_counter() - started
                    usual = durations.get(tool)
                    durations[tool] = took if usual is None else 0.8 * usual + 0.2 * took
                    if self._call_threads:
                        policy.ran(tool, thread_time() - cpu, took, True)
                continue
            with lock:
                if pending or closed.is_set():
                    continue
                if not self._read_guarded():
                    return

    def _standby(self) -> None:
        """Reads for the serving thread while it is inside one tool for longer than a tick. After
        `_STANDBY_IDLE_TICKS` ticks without a call it sleeps until the serving thread starts one, so
        an idle worker costs no wake-ups (256 idle workers would otherwise wake 10,000 times a
        second)."""
        seen, idle, asleep = -1, 0, False
        closed, lock, wake = self._closed, self._reader_lock, self._standby_wake
        while True:
            wake.wait(None if asleep else _STANDBY_S)
            wake.clear()
            if closed.is_set():
                return
            asleep = False
            take_now, self._reader_wanted = self._reader_wanted, False
            seq = self._tool_seq
            if not self._in_tool or (seq != seen and not take_now):
                idle = idle + 1 if seq == seen and not self._in_tool else 0
                seen = seq
                if idle >= _STANDBY_IDLE_TICKS:
                    # Announce the sleep, then look again: either the serving thread, setting
                    # `_in_tool` before it reads `_standby_asleep`, sees it and wakes us, or we
                    # see its call here.
                    self._standby_asleep = True
                    if self._in_tool or self._tool_seq != seq:
                        self._standby_asleep = False
                    else:
                        asleep = True
                    idle = 0
                continue
            idle = 0
            self._writer.flush()  # results held back for a batch are not held behind a long tool
            self._hand_over_pending()
            while self._in_tool and self._tool_seq == seq and not closed.is_set():
                with lock:
                    if closed.is_set() or not (self._in_tool and self._tool_seq == seq):
                        break
                    if not self._read_guarded():
                        return

    def _hand_over_pending(self) -> None:
        """Thread profile: the serving thread is inside one tool for longer than a tick, so the
        calls waiting for it go to the call threads instead of waiting behind that tool."""
        if not self._call_threads:
            return
        pending = self._pending
        while True:
            try:
                entry = pending.popleft()  # atomic under the GIL, like the serving thread's popleft
            except IndexError:
                return
            self._queue.put(entry)

    def _want_reader(self) -> None:
        """A stream waits for credit: the standby thread takes the reader role at once."""
        self._reader_wanted = True
        self._standby_wake.set()

    def _read_guarded(self) -> bool:
        """One `_read_once`; False (after closing the connection) when the connection ended."""
        try:
            if self._read_once():
                return True
            reason, eof = "the host closed the frames connection", True
        except ProtocolError as error:
            reason, eof = f"protocol error on the frames connection: {error}", False
            log.error("%s; closing it", reason)
        except OSError as error:
            reason, eof = f"frames connection failed ({error.strerror})", True
        if not self._closed.is_set():
            self.stop()
            self._on_closed(reason, eof)
        return False

    def _read_once(self) -> bool:
        """Reads what has arrived and dispatches every complete frame; False at EOF."""
        frames = self._reader.read()
        if frames is None:
            return False
        if frames:  # (once per read, not per call: ~1 µs while no provider is set)
            self._traced = otel.enabled()
        for frame in frames:
            self._dispatch(frame)
        return True

    def _dispatch(self, frame: Any) -> None:
        kind = frame.WhichOneof("body")
        call_id = frame.call_id
        if kind == "execute" or kind == "execute_stream":
            self._start_call(call_id, kind, frame)
        elif kind == "cancel":
            entry = self._calls.get(call_id)
            if entry is not None:
                entry.call.cancel()
                self._answer_if_waiting(entry)
        elif kind == "credit":
            entry = self._calls.get(call_id)
            if entry is not None and entry.stream is not None:
                entry.stream.add(frame.credit.chunks)
        elif kind == "heartbeat":
            running, served = self._tracker.counts()
            self._answer(call_id, "heartbeat_ack", worker_pb2.HeartbeatResponse(
                sequence=frame.heartbeat.sequence, in_flight=running, calls_served=served))
        elif kind == "ping":
            self._answer(call_id, "pong", worker_pb2.PingResponse(
                message=frame.ping.message, worker_id=self._runner.worker_id, pid=os.getpid(),
                server_time_ms=int(time.time() * 1000)))
        elif kind == "describe_tools":
            adapter = self._runner.adapter
            self._answer(call_id, "tools", worker_pb2.DescribeToolsResponse(
                tools=[t.spec() for t in adapter.tools.values()], adapter=adapter.spec))
        elif kind == "shutdown":
            threading.Thread(target=self._shutdown, args=(call_id, frame.shutdown.grace_ms),
                             name="snakepit-frames-shutdown", daemon=True).start()
        else:
            raise ProtocolError(f"unexpected frame kind {kind!r} from the host")

    def _answer(self, call_id: int, kind: str, message: Any) -> None:
        self._writer.send(envelope(call_id, kind, message.SerializeToString()))

    def _fail(self, call_id: int, code: str, message: str) -> None:
        self._answer(call_id, "failed", frame_pb2.CallFailed(code=code, message=message))

    def _shutdown(self, call_id: int, grace_ms: int) -> None:
        self._tracker.drain(grace_ms / 1000)
        self._answer(call_id, "shutdown_done", worker_pb2.ShutdownResponse())
        self._on_shutdown()

    # -- calls ----------------------------------------------------------------------------------

    def _start_call(self, call_id: int, kind: str, frame: Any) -> None:
        request = frame.execute if kind == "execute" else frame.execute_stream
        if call_id == 0 or call_id in self._calls:
            raise ProtocolError(f"call id {call_id} is zero or already in use")
        refusal = self._tracker.admit()
        if refusal is not None:
            self._fail(call_id, "TRANSPORT_ERROR", refusal[1])
            return
        call = self._runner.new_call(request, frame.correlation_id)
        stream = StreamCredit(call, self._want_reader) if kind == "execute_stream" else None
        entry = _Call(call_id, frame, request, call, stream)
        self._calls[call_id] = entry
        if self._inline or (stream is None and threading.get_ident() == self._serving_ident
                            and call.tool not in self._async_tools and self._policy.inline(call.tool)):
            self._pending.append(entry)
        else:
            self._queue.put(entry)

    def _send_result(self, parts: List[bytes], may_hold: bool) -> None:
        """Sends a unary result, or (process profile) holds it back to go out in one write with the
        next results when the next call is already here and its tool usually takes under
        `_HOLD_UNDER_S` (up to half the calls waiting, see `_HOLD_AT_MOST`): with calls
        pipelined, results then travel in batches, as calls do, and
        each side makes one system call per batch rather than one per call. If that next call runs
        long after all, the standby thread writes what is held within about two ticks. Only the
        serving thread holds results back (`may_hold`): it sends the next ones itself."""
        pending = self._pending
        room = min(_HOLD_AT_MOST, max(_HOLD_AT_LEAST, len(pending) >> 1))
        if may_hold and pending and self._held < room:
            usual = self._durations.get(pending[0].call.tool)
            if usual is not None and usual < _HOLD_UNDER_S:
                self._held += 1
                self._writer.hold(parts)
                return
        self._held = 0
        self._writer.send(parts)

    def _call_loop(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is _STOP:
                return
            self._run_entry(entry)

    def _run_entry(self, entry: _Call) -> None:
        """Runs a call on a call thread (thread profile), timing its tool for `InlinePolicy`."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            self._run(entry, False)
        except BaseException:
            log.exception("frame call %d failed outside its tool", entry.call_id)
        finally:
            self._calls.pop(entry.call_id, None)
            if entry.stream is None:
                self._policy.ran(entry.call.tool, time.thread_time() - cpu,
                                 time.perf_counter() - started, False)

    def _span(self, entry: _Call) -> Optional[Callable[[], ContextManager[Any]]]:
        """The call's tracing span, or None when no tracer provider was set at the last read."""
        if not self._traced:
            return None
        metadata = dict(entry.frame.metadata)
        call = entry.call
        return lambda: otel.start_tool_span(call.tool, metadata, worker_id=self._runner.worker_id,
                                            correlation_id=call.correlation_id)

    def _answer_if_waiting(self, entry: _Call) -> None:
        """A call cancelled while it waits for the serving thread (`_pending`) is answered now, not
        when its turn comes: it holds no place behind a long call (the host's stuck check counts
        the calls a worker holds, and must not blame the call that runs for one that waits). A
        call queued for the call threads is answered by the thread that takes it."""
        try:
            self._pending.remove(entry)  # atomic under the GIL, like the serving thread's popleft
        except ValueError:
            return  # the serving thread took it first: it answers it
        self._calls.pop(entry.call_id, None)
        self._answer_cancelled(entry)

    def _answer_cancelled(self, entry: _Call) -> None:
        """Answers a call that was cancelled before it started."""
        self._tracker.release()
        error = error_to_proto(entry.call.cancellation_error())
        if entry.stream is None:
            self._answer(entry.call_id, "execute_result", worker_pb2.ExecuteResponse(error=error))
        else:
            self._answer(entry.call_id, "stream_event", worker_pb2.ExecuteStreamResponse(error=error))

    def _run(self, entry: _Call, on_serving_thread: bool) -> None:
        call, call_id = entry.call, entry.call_id
        if call.is_cancelled:
            # Cancelled while it waited in the queue (the host's window): never started.
            self._answer_cancelled(entry)
            return
        span = self._span(entry)
        if entry.stream is None:
            started = time.perf_counter()
            content_type, data, error = self._runner.run_unary(entry.request, call, span)
            duration_ms = (time.perf_counter() - started) * 1000
            if error is None:
                parts, size = result_frame(call_id, content_type, data, duration_ms)
                if not self._limit or size + 16 <= self._limit:
                    self._send_result(parts, on_serving_thread)
                    return
                error = PayloadTooLargeError(size, self._limit)
            body = worker_pb2.ExecuteResponse(error=error_to_proto(error), duration_ms=duration_ms).SerializeToString()
            self._send_result(envelope(call_id, "execute_result", body), on_serving_thread)
            return
        stream = entry.stream
        active = lambda: not self._closed.is_set()  # noqa: E731 - a one-line predicate
        messages = self._runner.stream(entry.request, call, span, active)
        try:
            for message in messages:
                if message.WhichOneof("event") == "chunk" and not stream.take(call):
                    continue  # cancelled while waiting for credit: the generator ends next
                self._answer(call_id, "stream_event", message)
        finally:
            messages.close()


__all__ = ["FrameServer"]
