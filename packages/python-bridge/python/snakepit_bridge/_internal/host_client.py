"""The worker's one channel to the Node host service: heartbeat, session state, host tools."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

import grpc

from . import codec
from .call_context import CallContext, current_call
from .errors import HostToolError
from ..gen import host_pb2, host_pb2_grpc
from ..gen.constants import (
    CORRELATION_ID_METADATA,
    ERROR_CODE_METADATA,
    MAX_MESSAGE_BYTES,
    SECRET_METADATA,
    WORKER_ID_METADATA,
)
from .session import SessionError


class HostClient:
    """Opened once per worker; every call carries the worker id, correlation id and secret."""

    def __init__(self, address: str, worker_id: str, secret: Optional[str]) -> None:
        self._worker_id = worker_id
        self._secret = secret
        self._channel = grpc.insecure_channel(
            address,
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        self._stub = host_pb2_grpc.HostServiceStub(self._channel)

    def _metadata(self) -> List[Tuple[str, str]]:
        metadata = [(WORKER_ID_METADATA, self._worker_id)]
        call = current_call()
        if call is not None and call.correlation_id:
            metadata.append((CORRELATION_ID_METADATA, call.correlation_id))
        if self._secret:
            metadata.append((SECRET_METADATA, self._secret))
        return metadata

    def heartbeat(self, sequence: int, timeout_s: float) -> bool:
        """True when the host still knows this worker; raises grpc.RpcError when unreachable."""
        response = self._stub.Heartbeat(
            host_pb2.HostServiceHeartbeatRequest(worker_id=self._worker_id, sequence=sequence),
            timeout=timeout_s,
            metadata=self._metadata(),
        )
        return bool(response.known)

    def get_session_state(
        self, session_id: str, keys: List[str], known_version: Optional[int]
    ) -> Tuple[Dict[str, Any], int, bool]:
        """(values, version, unchanged): with `known_version` still current, no values travel."""
        request = host_pb2.GetSessionStateRequest(session_id=session_id, keys=keys)
        if known_version is not None:
            request.known_version = known_version
        response = self._session_rpc(self._stub.GetSessionState, request)
        values = {k: codec.decode(v) for k, v in response.values.items()}
        return values, int(response.version), bool(response.unchanged)

    def set_session_state(self, session_id: str, values: Mapping[str, Any], if_version: Optional[int]) -> int:
        encoded = {k: codec.encode(v) for k, v in values.items()}
        request = host_pb2.SetSessionStateRequest(session_id=session_id, values=encoded)
        if if_version is not None:
            request.if_version = if_version
        return int(self._session_rpc(self._stub.SetSessionState, request).version)

    def delete_session_state(self, session_id: str, keys: List[str], if_version: Optional[int]) -> int:
        request = host_pb2.DeleteSessionStateRequest(session_id=session_id, keys=keys)
        if if_version is not None:
            request.if_version = if_version
        return int(self._session_rpc(self._stub.DeleteSessionState, request).version)

    def _session_rpc(self, rpc: Any, request: Any) -> Any:
        """Calls a session RPC; a failure the host coded (`x-snakepit-error-code`) becomes a `SessionError`."""
        try:
            return rpc(request, metadata=self._metadata())
        except grpc.RpcError as error:
            trailers = dict(error.trailing_metadata() or ()) if isinstance(error, grpc.Call) else {}
            code = trailers.get(ERROR_CODE_METADATA)
            if not code:
                raise
            details = error.details() if isinstance(error, grpc.Call) else None
            raise SessionError(str(code), str(details or code)) from None

    def call_host_tool(self, name: str, kwargs: Mapping[str, Any], call: Optional[CallContext]) -> Any:
        request = host_pb2.CallHostToolRequest(
            tool=name, arguments=codec.encode_arguments(kwargs), session_id=call.session_id if call else ""
        )
        timeout = None
        if call is not None and call.timeout_ms:
            timeout = call.timeout_ms / 1000
        response = self._stub.CallHostTool(request, metadata=self._metadata(), timeout=timeout)
        if response.WhichOneof("outcome") == "error":
            error = response.error
            details = codec.decode(error.details) if error.HasField("details") else None
            raise HostToolError(error.type, error.message, details=details, code=error.code, traceback=error.traceback)
        return codec.decode(response.result)

    def close(self) -> None:
        self._channel.close()
