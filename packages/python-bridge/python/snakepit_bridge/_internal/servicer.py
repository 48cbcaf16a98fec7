"""The WorkerService over gRPC: control RPCs, and tool calls run by the shared `ToolRunner`."""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Iterator, Optional

import grpc

from . import otel
from .adapter import LoadedAdapter
from .call_context import CallContext
from .event_loop import EventLoopThread
from ..gen import worker_pb2, worker_pb2_grpc
from .session import SessionStore
from .call_tracker import CallTracker
from .tool_call import CORRELATION_METADATA, ToolRunner, log_call_error

__all__ = ["CORRELATION_METADATA", "WorkerServicer", "log_call_error"]


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
        max_message_bytes: int = 0,
    ) -> None:
        self._adapter = adapter
        self._worker_id = worker_id
        self._on_shutdown = on_shutdown
        self._tracker = CallTracker(worker_id, concurrency)
        self._runner = ToolRunner(adapter, worker_id, loop, session_store, host_call, self._tracker,
                                  max_message_bytes)
        self.max_admitted = self._tracker.max_admitted

    # -- control RPCs ---------------------------------------------------------------------------

    def Ping(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.PingRequest, context: grpc.ServicerContext
    ) -> worker_pb2.PingResponse:
        return worker_pb2.PingResponse(message=request.message, worker_id=self._worker_id, pid=os.getpid(),
                                       server_time_ms=int(time.time() * 1000))

    def Heartbeat(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.HeartbeatRequest, context: grpc.ServicerContext
    ) -> worker_pb2.HeartbeatResponse:
        running, served = self._tracker.counts()
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
        self._tracker.drain(grace_s, settle_s)

    # -- tool calls -----------------------------------------------------------------------------

    def _new_call(
        self, request: worker_pb2.ExecuteRequest | worker_pb2.ExecuteStreamRequest, context: grpc.ServicerContext
    ) -> CallContext:
        metadata = dict(context.invocation_metadata() or ())
        call = self._runner.new_call(request, str(metadata.get(CORRELATION_METADATA, "")))
        if not context.add_callback(call.cancel):
            call.cancel()  # the RPC has already ended
        return call

    def _admit(self, context: grpc.ServicerContext) -> None:
        """Count the call in, or abort it (outside any `try` that would turn the abort into a result)."""
        refusal = self._tracker.admit()
        if refusal is not None:
            kind, message = refusal
            status = grpc.StatusCode.UNAVAILABLE if kind == "unavailable" else grpc.StatusCode.RESOURCE_EXHAUSTED
            context.abort(status, message)

    def Execute(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.ExecuteRequest, context: grpc.ServicerContext
    ) -> worker_pb2.ExecuteResponse:
        call = self._new_call(request, context)
        self._admit(context)
        return self._runner.execute(request, call, lambda: otel.tool_span(call, context, self._worker_id))

    def ExecuteStream(  # noqa: N802 - the RPC's name, from the generated base class
        self, request: worker_pb2.ExecuteStreamRequest, context: grpc.ServicerContext
    ) -> Iterator[worker_pb2.ExecuteStreamResponse]:
        call = self._new_call(request, context)
        self._admit(context)
        yield from self._runner.stream(request, call, lambda: otel.tool_span(call, context, self._worker_id),
                                       context.is_active)
