from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HostServiceHeartbeatRequest(_message.Message):
    __slots__ = ("worker_id", "sequence")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    sequence: int
    def __init__(self, worker_id: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class HostServiceHeartbeatResponse(_message.Message):
    __slots__ = ("sequence", "known")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    known: bool
    def __init__(self, sequence: _Optional[int] = ..., known: _Optional[bool] = ...) -> None: ...

class GetSessionStateRequest(_message.Message):
    __slots__ = ("session_id", "keys", "known_version")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_VERSION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    known_version: int
    def __init__(self, session_id: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., known_version: _Optional[int] = ...) -> None: ...

class GetSessionStateResponse(_message.Message):
    __slots__ = ("values", "cache_ttl_ms", "version", "unchanged")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Payload
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Payload, _Mapping]] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    CACHE_TTL_MS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    values: _containers.MessageMap[str, _common_pb2.Payload]
    cache_ttl_ms: int
    version: int
    unchanged: bool
    def __init__(self, values: _Optional[_Mapping[str, _common_pb2.Payload]] = ..., cache_ttl_ms: _Optional[int] = ..., version: _Optional[int] = ..., unchanged: _Optional[bool] = ...) -> None: ...

class SetSessionStateRequest(_message.Message):
    __slots__ = ("session_id", "values", "if_version")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Payload
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Payload, _Mapping]] = ...) -> None: ...
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    IF_VERSION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    values: _containers.MessageMap[str, _common_pb2.Payload]
    if_version: int
    def __init__(self, session_id: _Optional[str] = ..., values: _Optional[_Mapping[str, _common_pb2.Payload]] = ..., if_version: _Optional[int] = ...) -> None: ...

class SetSessionStateResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class DeleteSessionStateRequest(_message.Message):
    __slots__ = ("session_id", "keys", "if_version")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    IF_VERSION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    if_version: int
    def __init__(self, session_id: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., if_version: _Optional[int] = ...) -> None: ...

class DeleteSessionStateResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class CallHostToolRequest(_message.Message):
    __slots__ = ("tool", "arguments", "session_id")
    TOOL_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    tool: str
    arguments: _common_pb2.Arguments
    session_id: str
    def __init__(self, tool: _Optional[str] = ..., arguments: _Optional[_Union[_common_pb2.Arguments, _Mapping]] = ..., session_id: _Optional[str] = ...) -> None: ...

class CallHostToolResponse(_message.Message):
    __slots__ = ("result", "error")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    result: _common_pb2.Payload
    error: _common_pb2.ToolError
    def __init__(self, result: _Optional[_Union[_common_pb2.Payload, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.ToolError, _Mapping]] = ...) -> None: ...
