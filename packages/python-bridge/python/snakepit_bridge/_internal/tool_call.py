"""Running one tool call, the same for every transport (the gRPC servicer and the frame server).

`CallTracker` admits calls, hands out the `concurrency` slots and counts what heartbeats report;
`ToolRunner` binds arguments, runs a sync, async or generator tool with its `CallContext` active and
turns the outcome into the contract's `ExecuteResponse` / `ExecuteStreamResponse`. A transport only
builds the `CallContext` (from its metadata), wires its own cancellation to `call.cancel()`, and
carries the messages.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import time
from typing import Any, Callable, ContextManager, Dict, Generator, List, Optional, Tuple

from . import codec
from .adapter import LoadedAdapter
from .call_context import CallContext, activate, deactivate
from ..gen.constants import (
    CORRELATION_ID_METADATA,
    INVALID_ARGUMENTS,
    PAYLOAD_TOO_LARGE,
    TOOL_NOT_FOUND,
)
from .call_tracker import CallTracker
from .errors import BridgeError, ContainedError, error_to_proto, uncontain
from .event_loop import AsyncCall, EventLoopThread
from ..gen import worker_pb2
from .session import SessionStore, session_for
from .tools import ToolDefinition

log = logging.getLogger("snakepit_bridge.servicer")

CORRELATION_METADATA = CORRELATION_ID_METADATA
_CANCELLED_ERRORS = (concurrent.futures.CancelledError, asyncio.CancelledError)
# Result types that are never awaitable.
_PLAIN = frozenset({str, int, float, bool, bytes, dict, list, tuple, type(None)})


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class ToolRunner:
    """Runs the adapter's tools: binding, the current call, async tools on the event loop,
    generators, errors as `ToolError`s, and the result size limit."""

    def __init__(
        self,
        adapter: LoadedAdapter,
        worker_id: str,
        loop: EventLoopThread,
        session_store: Optional[SessionStore],
        host_call: Optional[Callable[..., Any]],
        tracker: CallTracker,
        max_message_bytes: int = 0,
    ) -> None:
        self.adapter = adapter
        self.worker_id = worker_id
        self.loop = loop
        self.session_store = session_store
        self.host_call = host_call
        self.tracker = tracker
        self.max_message_bytes = max_message_bytes

    def new_call(self, request: Any, correlation_id: str) -> CallContext:
        ctx = request.context
        metadata = ctx.metadata
        session_id = ctx.session_id
        # Positional, in the dataclass's field order (tested): half the cost of keywords.
        return CallContext(ctx.call_id, correlation_id, session_id, ctx.timeout_ms,
                           dict(metadata) if metadata else {},
                           session_for(session_id, self.session_store) if session_id else None,
                           request.tool, self.host_call)

    def prepare(self, request: Any, streaming: bool) -> "tuple[ToolDefinition, Tuple[Any, ...], Dict[str, Any]]":
        name = request.tool
        tool = self.adapter.tools.get(name)
        if tool is None:
            available = ", ".join(sorted(self.adapter.tools)) or "(none)"
            raise BridgeError(TOOL_NOT_FOUND, f"Unknown tool {name!r}; available tools: {available}",
                              type="LookupError")
        if tool.streaming != streaming:
            if streaming:
                raise BridgeError(INVALID_ARGUMENTS,
                                  f"Tool {tool.name!r} is not a streaming tool: call it with Execute")
            raise BridgeError(INVALID_ARGUMENTS,
                              f"Tool {tool.name!r} is a streaming tool: call it with ExecuteStream")
        args, kwargs = tool.arguments(codec.decode_arguments(request.arguments))
        return tool, args, kwargs

    def _await(self, awaitable: Any, call: CallContext) -> Any:
        running = self.loop.submit(awaitable)
        call.on_cancel(running.cancel)
        try:
            return running.result()
        except _CANCELLED_ERRORS:
            if call.is_cancelled:
                raise call.cancellation_error() from None
            raise  # cancelled by the tool's own code: a tool error like any other

    def _check_size(self, data: bytes) -> None:
        limit = self.max_message_bytes
        if limit and len(data) > limit:
            raise PayloadTooLargeError(len(data), limit)

    def run_unary(self, request: Any, call: CallContext,
                  span: Optional[Callable[[], ContextManager[Any]]]) -> "tuple[str, bytes, Optional[BaseException]]":
        """Runs a unary tool (already admitted): `(content_type, data, None)` or `("", b"", error)`;
        never raises. `span` None: no tracing span (the frames transport's usual case)."""
        tracker = self.tracker
        entered = False
        try:
            tracker.enter(call)
            entered = True
            if span is None:
                content_type, data = self._call_unary(request, call)
            else:
                with span():
                    content_type, data = self._call_unary(request, call)
            return content_type, data, None
        # BaseException: a tool's SystemExit, KeyboardInterrupt, GeneratorExit or a library's own
        # BaseException is a ToolError too (see the README); escaping, it would leave the call
        # unanswered forever.
        except BaseException as error:  # noqa: BLE001 - every tool failure becomes a ToolError
            if not isinstance(error, BridgeError):
                log_call_error(call, error)
            return "", b"", error
        finally:
            tracker.leave(call, entered)

    def _call_unary(self, request: Any, call: CallContext) -> "tuple[str, bytes]":
        tool, args, kwargs = self.prepare(request, streaming=False)
        token = activate(call)
        try:
            result = tool.fn(*args, **kwargs)
            # (a plain JSON value, the usual result, skips `isawaitable`'s Python-level checks)
            if type(result) not in _PLAIN and inspect.isawaitable(result):
                result = self._await(result, call)
        finally:
            deactivate(token)
        content_type, data = codec.encode_value(result, tool.name)
        limit = self.max_message_bytes
        if limit and len(data) > limit:
            raise PayloadTooLargeError(len(data), limit)
        return content_type, data

    def execute(self, request: Any, call: CallContext,
                span: Callable[[], ContextManager[Any]]) -> worker_pb2.ExecuteResponse:
        """Runs a unary tool (already admitted) and returns its response; never raises."""
        started = time.perf_counter()
        content_type, data, error = self.run_unary(request, call, span)
        response = worker_pb2.ExecuteResponse(duration_ms=_elapsed_ms(started))
        if error is None:
            response.result.SetInParent()
            response.result.content_type = content_type
            response.result.data = data
        else:
            response.error.CopyFrom(error_to_proto(error))
        return response

    def stream(self, request: Any, call: CallContext, span: Optional[Callable[[], ContextManager[Any]]],
               active: Callable[[], bool]) -> Generator[worker_pb2.ExecuteStreamResponse, None, None]:
        """Runs a generator tool (already admitted), yielding its stream messages; the last one is
        `end` or `error`, unless the call was cancelled and the peer is gone (`active()` false)."""
        started = time.perf_counter()
        chunks = 0
        try:
            with self.tracker.slot(call), (span() if span is not None else contextlib.nullcontext()):
                tool, args, kwargs = self.prepare(request, streaming=True)
                token = activate(call)
                try:
                    source = tool.fn(*args, **kwargs)
                finally:
                    deactivate(token)
                values = self._iterate_async(source, call) if tool.is_async else _iterate_sync(source, call)
                try:
                    for value in values:
                        payload = codec.encode(value, tool.name)
                        self._check_size(payload.data)
                        yield worker_pb2.ExecuteStreamResponse(chunk=payload)
                        chunks += 1
                finally:
                    values.close()  # runs the tool's `finally` even when the client went away
                if call.is_cancelled:
                    if active():
                        call.raise_if_cancelled()
                    return
                yield worker_pb2.ExecuteStreamResponse(
                    end=worker_pb2.StreamEnd(chunks=chunks, duration_ms=_elapsed_ms(started)))
        except GeneratorExit:
            raise  # the transport closed this stream at one of our yields (the peer went away): no answer
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
            while not call.is_cancelled:
                token = activate(call)
                try:
                    current[0] = running = self.loop.submit(agen.__anext__())
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
                self.loop.run(agen.aclose(), timeout=5)
            except BaseException:  # already finished or failing in finally
                log.debug("closing async generator failed", exc_info=True)
            finally:
                deactivate(token)


class PayloadTooLargeError(BridgeError):
    """A result (or stream chunk) over the message limit: fails that call alone."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(PAYLOAD_TOO_LARGE, f"The result is {size} bytes, over the {limit}-byte message limit "
                                            "(`maxMessageBytes`)", type="PayloadTooLargeError")
        self.details: Dict[str, int] = {"size": size, "limit": limit}


def _iterate_sync(gen: Any, call: CallContext) -> Generator[Any, None, None]:
    try:
        while not call.is_cancelled:
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
            if call.cancelled.is_set():  # (not `is_cancelled`: mypy would take it for still False)
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
