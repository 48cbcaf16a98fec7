"""A small real HostService (what the Node host serves), for tests."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

import grpc

from snakepit_bridge.gen import common_pb2, host_pb2, host_pb2_grpc


class FakeHost(host_pb2_grpc.HostServiceServicer):
    def __init__(self, address: str, cache_ttl_ms: int = 5000) -> None:
        self.address = address
        self.cache_ttl_ms = cache_ttl_ms
        self.known = True
        self.state: Dict[str, Dict[str, common_pb2.Payload]] = {}
        self.calls: List[tuple] = []  # (rpc, metadata dict)
        self.lock = threading.Lock()
        self.server = grpc.server(ThreadPoolExecutor(max_workers=4))
        host_pb2_grpc.add_HostServiceServicer_to_server(self, self.server)
        self.server.add_insecure_port(address)
        self.server.start()

    def _record(self, rpc: str, context) -> None:
        with self.lock:
            self.calls.append((rpc, dict(context.invocation_metadata())))

    def count(self, rpc: str) -> int:
        with self.lock:
            return sum(1 for name, _ in self.calls if name == rpc)

    def Heartbeat(self, request, context):  # noqa: N802 - the RPC's name, from the generated base class
        self._record("Heartbeat", context)
        return host_pb2.HostServiceHeartbeatResponse(sequence=request.sequence, known=self.known)

    def GetSessionState(self, request, context):  # noqa: N802 - the RPC's name, from the generated base class
        self._record("GetSessionState", context)
        session = self.state.get(request.session_id, {})
        keys = request.keys or list(session)
        return host_pb2.GetSessionStateResponse(values={k: session[k] for k in keys if k in session},
                                                cache_ttl_ms=self.cache_ttl_ms)

    def SetSessionState(self, request, context):  # noqa: N802 - the RPC's name, from the generated base class
        self._record("SetSessionState", context)
        self.state.setdefault(request.session_id, {}).update(request.values)
        return host_pb2.SetSessionStateResponse()

    def DeleteSessionState(self, request, context):  # noqa: N802 - the RPC's name, from the generated base class
        self._record("DeleteSessionState", context)
        for key in request.keys:
            self.state.get(request.session_id, {}).pop(key, None)
        return host_pb2.DeleteSessionStateResponse()

    def CallHostTool(self, request, context):  # noqa: N802 - the RPC's name, from the generated base class
        self._record("CallHostTool", context)
        kwargs = json.loads(request.arguments.json.data or b"{}")
        if request.tool == "double":
            data = json.dumps({"value": kwargs["x"] * 2, "session": request.session_id}).encode()
            return host_pb2.CallHostToolResponse(result=common_pb2.Payload(content_type="application/json", data=data))
        details = common_pb2.Payload(content_type="application/json", data=b'{"tool":"%s"}' % request.tool.encode())
        return host_pb2.CallHostToolResponse(error=common_pb2.ToolError(
            type="Error", message=f"no host tool {request.tool}", code="TOOL_NOT_FOUND", details=details))

    def stop(self) -> None:
        self.server.stop(0).wait(5)
