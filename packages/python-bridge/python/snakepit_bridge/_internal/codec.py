"""Values <-> `Payload` / `Arguments`: JSON for data, raw bytes for binary, never pickle."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Mapping

from ..gen.constants import INVALID_ARGUMENTS
from .errors import BridgeError
from ..gen import common_pb2

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"

_BINARY_TYPES = (bytes, bytearray, memoryview)


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; raises TypeError naming the type that cannot be encoded."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default, allow_nan=True)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"Tool result is not JSON-serialisable ({error}); return JSON data, bytes, "
            "a dataclass, or an object with .tolist()"
        ) from None
    return text.encode("utf-8")


def encode(value: Any) -> common_pb2.Payload:
    """None -> empty content type, bytes-like -> octet-stream, anything else -> JSON."""
    if value is None:
        return common_pb2.Payload()
    if isinstance(value, _BINARY_TYPES):
        return common_pb2.Payload(content_type=OCTET_STREAM, data=bytes(value))
    return common_pb2.Payload(content_type=JSON, data=dumps(value))


def decode(payload: common_pb2.Payload) -> Any:
    if payload.content_type == "":
        return None
    if payload.content_type == OCTET_STREAM:
        return bytes(payload.data)
    if payload.content_type == JSON:
        return json.loads(payload.data.decode("utf-8")) if payload.data else None
    raise ValueError(f"Unsupported payload content type {payload.content_type!r}")


def decode_arguments(arguments: common_pb2.Arguments) -> Dict[str, Any]:
    """The keyword arguments of a call: the JSON object merged with the binary map."""
    kwargs: Dict[str, Any] = {}
    if arguments.HasField("json") and arguments.json.data:
        try:
            decoded = decode(arguments.json)
        except ValueError as error:
            raise BridgeError(INVALID_ARGUMENTS, f"Arguments are not valid JSON: {error}") from None
        if decoded is not None and not isinstance(decoded, dict):
            raise BridgeError(INVALID_ARGUMENTS, f"Arguments must be a JSON object, got {type(decoded).__name__}")
        kwargs.update(decoded or {})
    for name, data in arguments.binary.items():
        if name in kwargs:
            raise BridgeError(INVALID_ARGUMENTS, f"Argument {name!r} appears both in json and binary")
        kwargs[name] = bytes(data)
    return kwargs


def encode_arguments(kwargs: Mapping[str, Any]) -> common_pb2.Arguments:
    """Split keyword arguments into the JSON object and the binary map."""
    plain = {k: v for k, v in kwargs.items() if not isinstance(v, _BINARY_TYPES)}
    binary = {k: bytes(v) for k, v in kwargs.items() if isinstance(v, _BINARY_TYPES)}
    return common_pb2.Arguments(json=common_pb2.Payload(content_type=JSON, data=dumps(plain)), binary=binary)
