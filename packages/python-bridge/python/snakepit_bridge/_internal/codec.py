"""Values <-> `Payload` / `Arguments`: JSON for data, raw bytes for binary, never pickle."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Callable, Dict, Iterable, Mapping, Optional

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


def _non_finite(value: Any, path: str = "$", depth: int = 0) -> Optional["tuple[float, str]"]:
    """The first NaN or infinity in `value` (as `dumps` would encode it) and its path, e.g.
    `(nan, "$.stats.ratios[1]")`; None when there is none."""
    if depth > 100:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (value, path)
    if isinstance(value, (str, int, bool, type(None), *_BINARY_TYPES)):
        return None
    if isinstance(value, dict):
        items: Iterable["tuple[str, Any]"] = (
            (f".{k}" if isinstance(k, str) and k.isidentifier() else f"[{json.dumps(str(k))}]", v)
            for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        try:
            converted = _json_default(value)
        except Exception:  # noqa: BLE001 - not convertible: not where the NaN is
            return None
        return _non_finite(converted, path, depth + 1)
    for suffix, item in items:
        found = _non_finite(item, path + suffix, depth + 1)
        if found is not None:
            return found
    return None


# One encoder for every call: `json.dumps` with these options would build a new `JSONEncoder` per call
# (about a microsecond, more than encoding a small value). Encoders hold no state between calls.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default,
                           allow_nan=False).encode


def dumps(value: Any, tool: str = "") -> bytes:
    """Compact UTF-8 JSON. Raises TypeError naming the type that cannot be encoded, and ValueError
    naming the NaN or infinity (which JSON has no literal for) and where it is; `tool` names the
    tool whose result this is, for both messages."""
    try:
        text = _encode(value)
    except ValueError as error:
        what = _what(tool)
        found = _non_finite(value)
        if found is None:
            raise TypeError(f"{what} is not JSON-serialisable ({error})") from None
        number, path = found
        raise ValueError(
            f"{what} is not JSON: {number!r} at {path} (JSON has no NaN or Infinity); "
            "return None, a string or a finite number there"
        ) from None
    except TypeError as error:
        raise TypeError(
            f"{_what(tool)} is not JSON-serialisable ({error}); return JSON data, bytes, "
            "a dataclass, or an object with .tolist()"
        ) from None
    return text.encode("utf-8")


def _what(tool: str) -> str:
    return f"The result of tool {tool!r}" if tool else "The value"


def encode_value(value: Any, tool: str = "") -> "tuple[str, bytes]":
    """`(content_type, data)` of a value: None -> `("", b"")`, bytes-like -> octet-stream,
    anything else -> JSON (see `dumps`)."""
    if value is None:
        return "", b""
    if isinstance(value, _BINARY_TYPES):
        return OCTET_STREAM, bytes(value)
    return JSON, dumps(value, tool)


def encode(value: Any, tool: str = "") -> common_pb2.Payload:
    """`encode_value` as a `Payload`."""
    content_type, data = encode_value(value, tool)
    return common_pb2.Payload(content_type=content_type, data=data)


def decode(payload: common_pb2.Payload) -> Any:
    if payload.content_type == "":
        return None
    if payload.content_type == OCTET_STREAM:
        return bytes(payload.data)
    if payload.content_type == JSON:
        data = payload.data
        return json.loads(data) if data else None
    raise ValueError(f"Unsupported payload content type {payload.content_type!r}")


# The C scanner under `JSONDecoder.raw_decode` (which is a Python-level wrapper around it): returns
# `(value, end)`, raises StopIteration where no JSON value starts. It holds the GIL throughout, so
# one is shared by every thread.
_scan_once: Callable[[str, int], "tuple[Any, int]"] = vars(json.JSONDecoder())["scan_once"]


def _loads_object(data: bytes) -> Any:
    """`json.loads(data)`, faster for what the host sends (compact JSON, no surrounding space):
    the scanner without `loads`'s two whitespace scans, falling back to `loads` (and its error)
    for anything else."""
    try:
        text = data.decode("utf-8")
        value, end = _scan_once(text, 0)
        if end == len(text):
            return value
    except (ValueError, StopIteration):
        pass
    return json.loads(data)


def decode_arguments(arguments: common_pb2.Arguments) -> Dict[str, Any]:
    """The keyword arguments of a call: the JSON object merged with the binary map."""
    kwargs: Dict[str, Any]
    payload = arguments.json
    data = payload.data
    if data:
        content_type = payload.content_type
        try:
            decoded = _loads_object(data) if content_type == JSON else decode(payload)
        except ValueError as error:
            raise BridgeError(INVALID_ARGUMENTS, f"Arguments are not valid JSON: {error}") from None
        if decoded is not None and not isinstance(decoded, dict):
            raise BridgeError(INVALID_ARGUMENTS, f"Arguments must be a JSON object, got {type(decoded).__name__}")
        kwargs = decoded or {}
    else:
        kwargs = {}
    binary = arguments.binary
    if not binary:
        return kwargs
    for name, data in binary.items():
        if name in kwargs:
            raise BridgeError(INVALID_ARGUMENTS, f"Argument {name!r} appears both in json and binary")
        kwargs[name] = bytes(data)
    return kwargs


def encode_arguments(kwargs: Mapping[str, Any]) -> common_pb2.Arguments:
    """Split keyword arguments into the JSON object and the binary map."""
    plain = {k: v for k, v in kwargs.items() if not isinstance(v, _BINARY_TYPES)}
    binary = {k: bytes(v) for k, v in kwargs.items() if isinstance(v, _BINARY_TYPES)}
    return common_pb2.Arguments(json=common_pb2.Payload(content_type=JSON, data=dumps(plain)), binary=binary)
