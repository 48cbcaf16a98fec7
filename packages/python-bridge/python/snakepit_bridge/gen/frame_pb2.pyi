from . import worker_pb2 as _worker_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Frame(_message.Message):
    __slots__ = ("call_id", "ping", "heartbeat", "describe_tools", "execute", "execute_stream", "shutdown", "cancel", "credit", "pong", "heartbeat_ack", "tools", "execute_result", "stream_event", "shutdown_done", "failed", "metadata", "correlation_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    DESCRIBE_TOOLS_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_STREAM_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_ACK_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_RESULT_FIELD_NUMBER: _ClassVar[int]
    STREAM_EVENT_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_DONE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    ping: _worker_pb2.PingRequest
    heartbeat: _worker_pb2.HeartbeatRequest
    describe_tools: _worker_pb2.DescribeToolsRequest
    execute: _worker_pb2.ExecuteRequest
    execute_stream: _worker_pb2.ExecuteStreamRequest
    shutdown: _worker_pb2.ShutdownRequest
    cancel: CancelCall
    credit: StreamCredit
    pong: _worker_pb2.PingResponse
    heartbeat_ack: _worker_pb2.HeartbeatResponse
    tools: _worker_pb2.DescribeToolsResponse
    execute_result: _worker_pb2.ExecuteResponse
    stream_event: _worker_pb2.ExecuteStreamResponse
    shutdown_done: _worker_pb2.ShutdownResponse
    failed: CallFailed
    metadata: _containers.ScalarMap[str, str]
    correlation_id: str
    def __init__(self, call_id: _Optional[int] = ..., ping: _Optional[_Union[_worker_pb2.PingRequest, _Mapping]] = ..., heartbeat: _Optional[_Union[_worker_pb2.HeartbeatRequest, _Mapping]] = ..., describe_tools: _Optional[_Union[_worker_pb2.DescribeToolsRequest, _Mapping]] = ..., execute: _Optional[_Union[_worker_pb2.ExecuteRequest, _Mapping]] = ..., execute_stream: _Optional[_Union[_worker_pb2.ExecuteStreamRequest, _Mapping]] = ..., shutdown: _Optional[_Union[_worker_pb2.ShutdownRequest, _Mapping]] = ..., cancel: _Optional[_Union[CancelCall, _Mapping]] = ..., credit: _Optional[_Union[StreamCredit, _Mapping]] = ..., pong: _Optional[_Union[_worker_pb2.PingResponse, _Mapping]] = ..., heartbeat_ack: _Optional[_Union[_worker_pb2.HeartbeatResponse, _Mapping]] = ..., tools: _Optional[_Union[_worker_pb2.DescribeToolsResponse, _Mapping]] = ..., execute_result: _Optional[_Union[_worker_pb2.ExecuteResponse, _Mapping]] = ..., stream_event: _Optional[_Union[_worker_pb2.ExecuteStreamResponse, _Mapping]] = ..., shutdown_done: _Optional[_Union[_worker_pb2.ShutdownResponse, _Mapping]] = ..., failed: _Optional[_Union[CallFailed, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class CancelCall(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamCredit(_message.Message):
    __slots__ = ("chunks",)
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    chunks: int
    def __init__(self, chunks: _Optional[int] = ...) -> None: ...

class CallFailed(_message.Message):
    __slots__ = ("code", "message", "details_json")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    details_json: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., details_json: _Optional[str] = ...) -> None: ...
