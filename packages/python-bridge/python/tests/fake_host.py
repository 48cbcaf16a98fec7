"""A small real HostService (what the Node host serves), for tests."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional

import grpc

from snakepit_bridge.gen import common_pb2, host_pb2, host_pb2_grpc


class FakeHost(host_pb2_grpc.HostServiceServicer):
    def __init__(self, address: str) -> None:
        self.address = address
        self.known = True
        self.state: Dict[str, Dict[str, common_pb2.Payload]] = {}
        self.versions: Dict[str, int] = {}
        self.unchanged = 0  # reads answered "unchanged" (the worker's cache was current)
        self.after_read: Optional[Callable[[], None]] = None  # runs after each session read
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
        try:
            return self._read(request)
        finally:
            if self.after_read is not None:
                self.after_read()

    def _read(self, request):
        with self.lock:
            version = self.versions.get(request.session_id, 0)
            if request.HasField("known_version") and request.known_version == version:
                self.unchanged += 1
                return host_pb2.GetSessionStateResponse(version=version, unchanged=True)
            session = self.state.get(request.session_id, {})
            keys = request.keys or list(session)
            return host_pb2.GetSessionStateResponse(values={k: session[k] for k in keys if k in session},
                                                    version=version)

    def _conditional(self, request, context) -> int:
        version = self.versions.get(request.session_id, 0)
        if request.HasField("if_version") and request.if_version != version:
            context.set_trailing_metadata((("x-snakepit-error-code", "SESSION_CONFLICT"),))
            context.abort(grpc.StatusCode.ABORTED, f"session is at version {version}, not {request.if_version}")
        return version

    def write(self, session_id: str, key: str, payload: common_pb2.Payload) -> None:
        """Another host's write: the session gets a new version."""
        with self.lock:
            self.state.setdefault(session_id, {})[key] = payload
            self.versions[session_id] = self.versions.get(session_id, 0) + 1

    def SetSessionState(self, request, context):  # noqa: N802 - the RPC's name, from the generated base class
        self._record("SetSessionState", context)
        with self.lock:
            self._conditional(request, context)
            self.state.setdefault(request.session_id, {}).update(request.values)
            self.versions[request.session_id] = self.versions.get(request.session_id, 0) + 1
            return host_pb2.SetSessionStateResponse(version=self.versions[request.session_id])

    def DeleteSessionState(self, request, context):  # noqa: N802 - the RPC's name, from the generated base class
        self._record("DeleteSessionState", context)
        with self.lock:
            version = self._conditional(request, context)
            if request.session_id not in self.state:
                return host_pb2.DeleteSessionStateResponse(version=version)
            for key in request.keys:
                self.state[request.session_id].pop(key, None)
            self.versions[request.session_id] = version + 1
            return host_pb2.DeleteSessionStateResponse(version=version + 1)

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
