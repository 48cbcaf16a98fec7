"""The WorkerService implementation: control RPCs and tool execution (unary and streaming)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Generator, Iterator, List, Optional

import grpc

from . import codec, otel
from .adapter import LoadedAdapter
from .call_context import CallContext, activate, deactivate
from ..gen.constants import CORRELATION_ID_METADATA, INVALID_ARGUMENTS, TOOL_NOT_FOUND, WORKER_STOPPED
from .errors import BridgeError, ContainedError, error_to_proto, uncontain
from .event_loop import AsyncCall, EventLoopThread
from ..gen import worker_pb2, worker_pb2_grpc
from .session import SessionStore, session_for
from .tools import ToolDefinition

log = logging.getLogger("snakepit_bridge.servicer")

_CANCELLED_ERRORS = (concurrent.futures.CancelledError, asyncio.CancelledError)


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class WorkerServicer(worker_pb2_grpc.WorkerServiceServicer):
    """Runs at most `concurrency` tools at once; control RPCs never wait behind tools because
    the server has more threads than tool calls may take (see `max_admitted`)."""

    def __init__(
        self,
        adapter: LoadedAdapter,
        worker_id: str,
        concurrency: int,
        loop: EventLoopThread,
        session_store: Optional[SessionStore],
        host_call: Optional[Callable[..., Any]],
        on_shutdown: Callable[[], None],
    ) -> None:
        self._adapter = adapter
        self._worker_id = worker_id
        self._loop = loop
        self._session_store = session_store
        self._host_call = host_call
        self._on_shutdown = on_shutdown
        self._slots = threading.Semaphore(concurrency)
        self.max_admitted = 2 * concurrency + 2
        self._cond = threading.Condition()
        self._admitted = 0
        self._running = 0
        self._calls_served = 0
        self._calls: "set[CallContext]" = set()
        self._draining = False

    # -- control RPCs ---------------------------------------------------------------------------

    def Ping(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.PingRequest, context: grpc.ServicerContext
    ) -> worker_pb2.PingResponse:
        return worker_pb2.PingResponse(message=request.message, worker_id=self._worker_id, pid=os.getpid(),
                                       server_time_ms=int(time.time() * 1000))

    def Heartbeat(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.HeartbeatRequest, context: grpc.ServicerContext
    ) -> worker_pb2.HeartbeatResponse:
        with self._cond:
            running, served = self._running, self._calls_served
        return worker_pb2.HeartbeatResponse(sequence=request.sequence, in_flight=running, calls_served=served)

    def DescribeTools(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.DescribeToolsRequest, context: grpc.ServicerContext
    ) -> worker_pb2.DescribeToolsResponse:
        return worker_pb2.DescribeToolsResponse(tools=[t.spec() for t in self._adapter.tools.values()],
                                                adapter=self._adapter.spec)

    def Shutdown(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.ShutdownRequest, context: grpc.ServicerContext
    ) -> worker_pb2.ShutdownResponse:
        self.drain(request.grace_ms / 1000)
        self._on_shutdown()
        return worker_pb2.ShutdownResponse()

    def drain(self, grace_s: float, settle_s: float = 0.5) -> None:
        """Refuse new calls, wait up to `grace_s` for running ones, then cancel what is left and
        give cooperative tools up to `settle_s` to notice."""
        deadline = time.monotonic() + grace_s
        with self._cond:
            self._draining = True
            while self._admitted and time.monotonic() < deadline:
                self._cond.wait(max(deadline - time.monotonic(), 0))
            leftovers = list(self._calls)
        for call in leftovers:
            call.cancel(WORKER_STOPPED)
        with self._cond:  # give cooperative tools a moment to notice the cancellation
            settle = time.monotonic() + settle_s
            while self._admitted and time.monotonic() < settle:
                self._cond.wait(max(settle - time.monotonic(), 0))

    # -- tool calls -----------------------------------------------------------------------------

    def _new_call(
        self, request: worker_pb2.ExecuteRequest | worker_pb2.ExecuteStreamRequest, context: grpc.ServicerContext
    ) -> CallContext:
        metadata = dict(context.invocation_metadata() or ())
        ctx = request.context
        call = CallContext(
            call_id=ctx.call_id,
            correlation_id=str(metadata.get(CORRELATION_ID_METADATA, "")),
            session_id=ctx.session_id,
            timeout_ms=ctx.timeout_ms,
            metadata=dict(ctx.metadata),
            tool=request.tool,
            _host_call=self._host_call,
        )
        call.session = session_for(call.session_id, self._session_store)
        if not context.add_callback(call.cancel):
            call.cancel()  # the RPC has already ended
        return call

    def _admit(self, context: grpc.ServicerContext) -> None:
        """Count the call in, or abort it (outside any `try` that would turn the abort into a result)."""
        with self._cond:
            refusal = None
            if self._draining:
                refusal = (grpc.StatusCode.UNAVAILABLE, "worker is shutting down")
            elif self._admitted >= self.max_admitted:
                refusal = (grpc.StatusCode.RESOURCE_EXHAUSTED,
                           f"worker {self._worker_id} already holds {self._admitted} calls")
            else:
                self._admitted += 1
        if refusal is not None:
            context.abort(*refusal)

    @contextmanager
    def _slot(self, call: CallContext) -> Iterator[None]:
        """Wait for one of the `concurrency` slots; always releases the admission."""
        acquired = False
        try:
            while not self._slots.acquire(timeout=0.05):
                if call.cancelled.is_set():
                    raise call.cancellation_error()
            acquired = True
            with self._cond:
                self._running += 1
                self._calls.add(call)
            yield
        finally:
            with self._cond:
                self._admitted -= 1
                if acquired:
                    self._running -= 1
                    self._calls_served += 1
                    self._calls.discard(call)
                self._cond.notify_all()
            if acquired:
                self._slots.release()

    def _prepare(
        self, request: worker_pb2.ExecuteRequest | worker_pb2.ExecuteStreamRequest, streaming: bool
    ) -> tuple[ToolDefinition, inspect.BoundArguments]:
        tool = self._adapter.tools.get(request.tool)
        if tool is None:
            available = ", ".join(sorted(self._adapter.tools)) or "(none)"
            raise BridgeError(TOOL_NOT_FOUND, f"Unknown tool {request.tool!r}; available tools: {available}",
                              type="LookupError")
        if tool.streaming and not streaming:
            raise BridgeError(INVALID_ARGUMENTS, f"Tool {tool.name!r} is a streaming tool: call it with ExecuteStream")
        if streaming and not tool.streaming:
            raise BridgeError(INVALID_ARGUMENTS, f"Tool {tool.name!r} is not a streaming tool: call it with Execute")
        return tool, tool.bind(codec.decode_arguments(request.arguments))

    def _await(self, awaitable: Any, call: CallContext) -> Any:
        running = self._loop.submit(awaitable)
        call.on_cancel(running.cancel)
        try:
            return running.result()
        except _CANCELLED_ERRORS:
            if call.cancelled.is_set():
                raise call.cancellation_error() from None
            raise  # cancelled by the tool's own code: a tool error like any other

    def Execute(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.ExecuteRequest, context: grpc.ServicerContext
    ) -> worker_pb2.ExecuteResponse:
        started = time.perf_counter()
        call = self._new_call(request, context)
        response = worker_pb2.ExecuteResponse()
        self._admit(context)
        try:
            with self._slot(call), otel.tool_span(call, context, self._worker_id):
                tool, bound = self._prepare(request, streaming=False)
                token = activate(call)
                try:
                    result = tool.fn(*bound.args, **bound.kwargs)
                    if inspect.isawaitable(result):
                        result = self._await(result, call)
                finally:
                    deactivate(token)
                response.result.CopyFrom(codec.encode(result, tool.name))
        # BaseException: a tool's SystemExit, KeyboardInterrupt, GeneratorExit or a library's own
        # BaseException is a ToolError too (see the README); escaping, it would leave the call
        # unanswered forever.
        except BaseException as error:  # noqa: BLE001 - every tool failure becomes a ToolError
            if not isinstance(error, BridgeError):
                log_call_error(call, error)
            response.error.CopyFrom(error_to_proto(error))
        response.duration_ms = _elapsed_ms(started)
        return response

    def ExecuteStream(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.ExecuteStreamRequest, context: grpc.ServicerContext
    ) -> Iterator[worker_pb2.ExecuteStreamResponse]:
        started = time.perf_counter()
        call = self._new_call(request, context)
        chunks = 0
        self._admit(context)
        try:
            with self._slot(call), otel.tool_span(call, context, self._worker_id):
                tool, bound = self._prepare(request, streaming=True)
                token = activate(call)
                try:
                    source = tool.fn(*bound.args, **bound.kwargs)
                finally:
                    deactivate(token)
                values = self._iterate_async(source, call) if tool.is_async else _iterate_sync(source, call)
                try:
                    for value in values:
                        yield worker_pb2.ExecuteStreamResponse(chunk=codec.encode(value, tool.name))
                        chunks += 1
                finally:
                    values.close()  # runs the tool's `finally` even when the client went away
                if call.cancelled.is_set():
                    if context.is_active():
                        call.raise_if_cancelled()
                    return
                yield worker_pb2.ExecuteStreamResponse(
                    end=worker_pb2.StreamEnd(chunks=chunks, duration_ms=_elapsed_ms(started)))
        except GeneratorExit:
            raise  # grpc closed this stream at one of our yields (the client went away): no answer
        except BaseException as error:  # noqa: BLE001 - the tool's own BaseExceptions arrive contained
            if not isinstance(error, BridgeError):
                log_call_error(call, error)
            yield worker_pb2.ExecuteStreamResponse(error=error_to_proto(error))

    def _iterate_async(self, agen: Any, call: CallContext) -> Generator[Any, None, None]:
        current: List[Optional[AsyncCall]] = [None]

        def cancel_current() -> None:
            running = current[0]
            if running is not None:
                running.cancel()

        call.on_cancel(cancel_current)
        try:
            while not call.cancelled.is_set():
                token = activate(call)
                try:
                    current[0] = running = self._loop.submit(agen.__anext__())
                finally:
                    deactivate(token)
                try:
                    value = running.result()
                except StopAsyncIteration:
                    return
                except _CANCELLED_ERRORS:
                    return
                yield value
        finally:
            token = activate(call)
            try:
                self._loop.run(agen.aclose(), timeout=5)
            except BaseException:  # already finished or failing in finally
                log.debug("closing async generator failed", exc_info=True)
            finally:
                deactivate(token)


def _iterate_sync(gen: Any, call: CallContext) -> Generator[Any, None, None]:
    try:
        while not call.cancelled.is_set():
            token = activate(call)
            try:
                value = next(gen)
            except StopIteration:
                return
            except Exception:
                raise
            except BaseException as error:  # noqa: BLE001 - contained: see ContainedError
                raise ContainedError(error) from None
            finally:
                deactivate(token)
            if call.cancelled.is_set():
                return
            yield value
    finally:
        token = activate(call)
        try:
            gen.close()  # runs the tool's `finally` when the stream stopped early (cancelled)
        except BaseException:  # nobody waits for an answer any more
            log.debug("closing the generator failed", exc_info=True)
        finally:
            deactivate(token)


def log_call_error(call: CallContext, error: BaseException) -> None:
    error = uncontain(error)
    token = activate(call)
    try:
        log.info("tool %s raised %s: %s", call.tool, type(error).__name__, error)
    finally:
        deactivate(token)
