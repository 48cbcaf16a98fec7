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
Threads, thread profile: one reader (`snakepit-frames-reader`) that answers control frames and
queues calls for `concurrency` call threads (`snakepit-call-N`). Async tools run on the worker's
event loop in both.

Writes from every thread go through `FrameWriter`, which coalesces what is waiting into one
`sendmsg`. A malformed, truncated or oversized frame closes the connection; so does EOF. Either way
the worker terminates (`on_closed`), and the host fails the calls that were on it.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import socket
import threading
import time
from typing import Any, Callable, ContextManager, Dict, List, Optional

from . import otel
from .call_context import CallContext
from .errors import BridgeError, error_to_proto
from ..gen import frame_pb2, worker_pb2
from .tool_call import CORRELATION_METADATA, CallTracker, ToolRunner, PayloadTooLargeError, varint

log = logging.getLogger("snakepit_bridge.frames")

_HEADER = 4
_READ_SIZE = 256 * 1024
_IOV_MAX = 512
# How often the process profile's standby thread checks whether the serving thread is inside a
# tool (and so cannot read): a heartbeat or cancel waits at most about two ticks behind a tool.
_STANDBY_S = 0.025
# Ticks without a call after which the standby thread sleeps until the next call starts (1 s).
_STANDBY_IDLE_TICKS = 40
# A result may wait for the next one (to share its write) only when the next call's tool usually
# takes less than this.
_HOLD_UNDER_S = 0.0005
# At most this many results are held back: the batch goes out while the calls behind it still run,
# so the host's next calls arrive before the worker runs out of work (it never idles for a round
# trip, as it would if a whole window's results went out together at its end).
_HOLD_AT_MOST = 1
# Tags of the Frame fields written by hand around an already-serialised answer (the envelope is
# two fields: the call id, then the answer, in field-number order as protobuf serialises them).
_CALL_ID_TAG = bytes([(1 << 3) | 0])
_ANSWER_TAGS = {kind: varint((number << 3) | 2) for kind, number in {
    "pong": 10, "heartbeat_ack": 11, "tools": 12, "execute_result": 13, "stream_event": 14,
    "shutdown_done": 15, "failed": 16}.items()}


def envelope(call_id: int, kind: str, body: bytes) -> List[bytes]:
    """The frame `Frame(call_id=call_id, <kind>=<body>)` as header + envelope bytes, then `body`
    itself (never copied: a 1 MiB result goes to `sendmsg` as it is). Byte-identical to
    `Frame.SerializeToString()` (tested)."""
    return envelope_parts(call_id, kind, [body], len(body))


def envelope_parts(call_id: int, kind: str, body: List[bytes], size: int) -> List[bytes]:
    """`envelope` of a body given as pieces (`size` bytes in all), which are not copied."""
    head = (_CALL_ID_TAG + varint(call_id) if call_id else b"") + _ANSWER_TAGS[kind] + varint(size)
    parts = [(len(head) + size).to_bytes(_HEADER, "big") + head]
    parts += body
    return parts


class ProtocolError(Exception):
    """The peer broke the frame protocol; the connection closes."""


class FrameWriter:
    """Sends frames from any thread; what queues up while one thread writes goes out in its next
    `sendmsg` (a combining writer: no thread waits for another's write to start its own)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._pending: List[bytes] = []
        self._writing = False
        self.broken = False

    def hold(self, parts: List[bytes]) -> None:
        """Queues frames without writing them: they go out with the next `send` or `flush`."""
        with self._lock:
            if not self.broken:
                self._pending.extend(parts)

    def flush(self) -> None:
        """Writes what `hold` queued."""
        if self._pending:
            self.send([])

    def send(self, parts: List[bytes]) -> None:
        with self._lock:
            if self.broken:
                return
            self._pending.extend(parts)
            if self._writing:
                return
            self._writing = True
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch or self.broken:
                    self._writing = False
                    return
            try:
                self._send_all(batch)
            except OSError:
                with self._lock:
                    self.broken = True
                    self._writing = False
                    self._pending = []
                return

    def _send_all(self, parts: List[bytes]) -> None:
        views = [memoryview(p) for p in parts if len(p)]
        while views:
            batch = views[:_IOV_MAX]
            sent = self._sock.sendmsg(batch)
            i = 0
            while i < len(batch) and sent >= len(batch[i]):
                sent -= len(batch[i])
                i += 1
            if i < len(batch) and sent:
                batch[i] = batch[i][sent:]
            views = batch[i:] + views[_IOV_MAX:]


class _Stream:
    """Credit of one streaming call: the call thread waits for it before each chunk."""

    def __init__(self, call: CallContext, need_reader: Callable[[], None]) -> None:
        self.credit = 0
        self.cond = threading.Condition()
        self._need_reader = need_reader
        call.on_cancel(self.wake)

    def add(self, chunks: int) -> None:
        with self.cond:
            self.credit += chunks
            self.cond.notify()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify()

    def take(self, call: CallContext) -> bool:
        """Waits for one chunk of credit; False when the call was cancelled meanwhile."""
        with self.cond:
            if self.credit <= 0:
                self._need_reader()
            while self.credit <= 0:
                if call.is_cancelled:
                    return False
                self.cond.wait(0.5)
            self.credit -= 1
            return True


class _Call:
    __slots__ = ("call", "call_id", "frame", "stream")

    def __init__(self, call_id: int, frame: Any, call: CallContext, stream: Optional[_Stream]) -> None:
        self.call_id = call_id
        self.frame = frame
        self.call = call
        self.stream = stream


_STOP = object()


class FrameServer:
    """Serves one connection (the host's end of the socketpair) until EOF, a protocol error or
    `stop()`. `on_closed(reason, eof)` runs once when the connection ends by itself: `eof` is
    true when the host closed it (or it failed), false for a protocol error."""

    def __init__(self, sock: socket.socket, runner: ToolRunner, tracker: CallTracker, concurrency: int,
                 max_message_bytes: int, on_shutdown: Callable[[], None],
                 on_closed: Callable[[str, bool], None]) -> None:
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
        # Received bytes land in one reused buffer (no allocation per read); a frame split across
        # reads is carried over in `_carry`.
        self._rbuf = bytearray(_READ_SIZE)
        self._rview = memoryview(self._rbuf)
        self._carry = bytearray()
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
        if self._inline:
            self._threads = [threading.Thread(target=self._serve_inline, name="snakepit-frames", daemon=True),
                             threading.Thread(target=self._standby, name="snakepit-frames-standby", daemon=True)]
        else:
            self._threads = [threading.Thread(target=self._read_loop, name="snakepit-frames-reader", daemon=True)]
            self._threads += [threading.Thread(target=self._call_loop, name=f"snakepit-call-{i}", daemon=True)
                              for i in range(concurrency)]

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
        if not self._inline:
            for _ in self._threads[1:]:
                self._queue.put(_STOP)
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- reading --------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        """The reader thread of the thread profile: reads until the connection ends."""
        while not self._closed.is_set() and self._read_guarded():
            pass

    def _serve_inline(self) -> None:
        """The process profile's serving thread: runs what was read, else reads."""
        pending, lock, closed = self._pending, self._reader_lock, self._closed
        while not closed.is_set():
            if pending:
                entry = pending.popleft()
                self._tool_seq += 1
                self._in_tool = True  # (set before `_standby_asleep` is read: see `_standby`)
                if self._standby_asleep:
                    self._standby_asleep = False
                    self._standby_wake.set()  # once per idle spell, not per call
                started = time.perf_counter()
                try:
                    self._run_entry(entry)
                finally:
                    self._in_tool = False
                    tool = entry.call.tool
                    took = time.perf_counter() - started
                    self._durations[tool] = took if tool not in self._durations else \
                        0.8 * self._durations[tool] + 0.2 * took
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
            while self._in_tool and self._tool_seq == seq and not closed.is_set():
                with lock:
                    if closed.is_set() or not (self._in_tool and self._tool_seq == seq):
                        break
                    if not self._read_guarded():
                        return

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
        limit, carry = self._limit, self._carry
        n = self._sock.recv_into(self._rview)
        if n == 0:
            if carry:
                raise ProtocolError(f"EOF inside a frame ({len(carry)} bytes of it received)")
            return False
        if carry:
            carry += self._rview[:n]
            data = memoryview(carry)
        else:
            data = self._rview[:n]
        pos, end = 0, len(data)
        frames = []
        while end - pos >= _HEADER:
            size = int.from_bytes(data[pos:pos + _HEADER], "big")
            if limit and size > limit:
                raise ProtocolError(f"a frame of {size} bytes is over the {limit}-byte limit")
            if end - pos - _HEADER < size:
                if size > _READ_SIZE:  # a large frame: read the rest straight into its own buffer
                    body = bytearray(size)
                    have = end - pos - _HEADER
                    body[:have] = data[pos + _HEADER:end]
                    self._read_exact(memoryview(body)[have:])
                    frames.append(self._parse(body))
                    pos = end
                break
            frames.append(self._parse(data[pos + _HEADER:pos + _HEADER + size]))
            pos += _HEADER + size
        rest = bytes(data[pos:end]) if pos < end else b""
        data.release()
        if carry:
            carry.clear()
        if rest:
            carry += rest
        for frame in frames:
            self._dispatch(frame)
        return True

    def _read_exact(self, view: memoryview) -> None:
        while len(view):
            n = self._sock.recv_into(view)
            if n == 0:
                raise ProtocolError("EOF inside a frame")
            view = view[n:]

    @staticmethod
    def _parse(data: Any) -> Any:
        try:
            return frame_pb2.Frame.FromString(data)
        except Exception as error:  # noqa: BLE001 - DecodeError and friends
            raise ProtocolError(f"a frame does not parse ({type(error).__name__})") from None

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
        metadata = frame.metadata
        call = self._runner.new_call(request, metadata.get(CORRELATION_METADATA, ""))
        stream = _Stream(call, self._want_reader) if kind == "execute_stream" else None
        entry = _Call(call_id, frame, call, stream)
        self._calls[call_id] = entry
        if self._inline:
            self._pending.append(entry)
        else:
            self._queue.put(entry)

    def _send_result(self, parts: List[bytes]) -> None:
        """Sends a unary result, or (process profile) holds it back to go out in one write with the
        next result when the next call is already here and its tool usually takes under
        `_HOLD_UNDER_S`: with calls pipelined, results then travel in batches, as calls do, and
        each side makes one system call per batch rather than one per call. If that next call runs
        long after all, the standby thread writes what is held within about two ticks."""
        pending = self._pending
        if self._inline and pending and self._held < _HOLD_AT_MOST:
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
        try:
            self._run(entry)
        except BaseException:
            log.exception("frame call %d failed outside its tool", entry.call_id)
        finally:
            self._calls.pop(entry.call_id, None)

    def _span(self, entry: _Call) -> Callable[[], ContextManager[Any]]:
        if not otel.enabled():
            return _no_span
        metadata = dict(entry.frame.metadata)
        call = entry.call
        return lambda: otel.start_tool_span(call.tool, metadata, worker_id=self._runner.worker_id,
                                            correlation_id=call.correlation_id)

    def _answer_if_waiting(self, entry: _Call) -> None:
        """A call cancelled while it waits in the process profile's window is answered now, not
        when its turn comes: it holds no place behind a long call (the host's stuck check counts
        the calls a worker holds, and must not blame the call that runs for one that waits)."""
        if not self._inline:
            return
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

    def _run(self, entry: _Call) -> None:
        call, call_id = entry.call, entry.call_id
        frame = entry.frame
        if call.is_cancelled:
            # Cancelled while it waited in the queue (the host's window): never started.
            self._answer_cancelled(entry)
            return
        span = self._span(entry)
        if entry.stream is None:
            body = self._runner.execute_serialized(frame.execute, call, span)
            size = sum(map(len, body))
            if self._limit and size + 16 > self._limit:
                response = worker_pb2.ExecuteResponse(error=error_to_proto(_too_large(size, self._limit)))
                body = [response.SerializeToString()]
                size = len(body[0])
            self._send_result(envelope_parts(call_id, "execute_result", body, size))
            return
        stream = entry.stream
        active = lambda: not self._closed.is_set()  # noqa: E731 - a one-line predicate
        messages = self._runner.stream(frame.execute_stream, call, span, active)
        try:
            for message in messages:
                if message.WhichOneof("event") == "chunk" and not stream.take(call):
                    continue  # cancelled while waiting for credit: the generator ends next
                self._answer(call_id, "stream_event", message)
        finally:
            messages.close()

def _too_large(size: int, limit: int) -> BridgeError:
    return PayloadTooLargeError(size, limit)


_NO_SPAN: ContextManager[Any] = contextlib.nullcontext()


def _no_span() -> ContextManager[Any]:
    return _NO_SPAN


def frames_socket(fd: int) -> socket.socket:
    """The inherited frames socket (a socketpair end), as a blocking socket."""
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    return sock


__all__ = ["FrameServer", "FrameWriter", "ProtocolError", "envelope", "envelope_parts", "frames_socket"]
