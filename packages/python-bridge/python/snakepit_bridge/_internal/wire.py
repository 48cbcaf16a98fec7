"""Protobuf wire bytes written by hand for the frames transport's hottest answers: varints, a unary
result (`ExecuteResponse`) and the `Frame` envelope around an already-serialised answer. Each is
byte-identical to what the generated classes' `SerializeToString()` writes (tests/test_frames.py);
the pieces are returned unjoined so that a large result's data is never copied."""

from __future__ import annotations

import struct
from typing import Dict, List

HEADER_BYTES = 4  # the frame's length prefix: a 4-byte unsigned big-endian length

_DURATION_TAG = bytes([(3 << 3) | 1])  # ExecuteResponse.duration_ms, a fixed64 double
_RESULT_TAG = bytes([(1 << 3) | 2])  # ExecuteResponse.result
_CONTENT_TYPE_TAG = bytes([(1 << 3) | 2])  # Payload.content_type
_DATA_TAG = bytes([(2 << 3) | 2])  # Payload.data
_double = struct.Struct("<d").pack


_SMALL = [bytes((i,)) for i in range(0x80)]  # the one-byte varints, made once


def varint(value: int) -> bytes:
    """A protobuf varint (unsigned)."""
    if value < 0x80:
        return _SMALL[value]
    if value < 0x4000:
        return bytes(((value & 0x7F) | 0x80, value >> 7))
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def serialized_result(content_type: str, data: bytes, duration_ms: float) -> List[bytes]:
    """`ExecuteResponse(result=Payload(content_type, data), duration_ms).SerializeToString()` as
    pieces: fields in number order, zero values left out as protobuf does; `data` is not copied."""
    head = b""
    if content_type:
        ct = content_type.encode("utf-8")
        head = _CONTENT_TYPE_TAG + varint(len(ct)) + ct
    if data:
        head += _DATA_TAG + varint(len(data))
    tail = _DURATION_TAG + _double(duration_ms) if duration_ms != 0.0 else b""
    payload_size = len(head) + len(data)
    head = _RESULT_TAG + varint(payload_size) + head
    return [head, data, tail] if data else [head + tail]



# Tags of the Frame fields written by hand around an already-serialised answer (the envelope is
# two fields: the call id, then the answer, in field-number order as protobuf serialises them).
_CALL_ID_TAG = bytes([(1 << 3) | 0])
_ANSWER_TAGS = {kind: varint((number << 3) | 2) for kind, number in {
    "pong": 10, "heartbeat_ack": 11, "tools": 12, "execute_result": 13, "stream_event": 14,
    "shutdown_done": 15, "failed": 16}.items()}


def envelope(call_id: int, kind: str, body: bytes) -> List[bytes]:
    """The frame `Frame(call_id=call_id, <kind>=<body>)` as header + envelope bytes, then `body`
    itself (never copied: a 1 MiB result goes to `sendmsg` as it is). Byte-identical to
    `Frame.SerializeToString()` (tested)."""
    return envelope_parts(call_id, kind, [body], len(body))


def envelope_parts(call_id: int, kind: str, body: List[bytes], size: int) -> List[bytes]:
    """`envelope` of a body given as pieces (`size` bytes in all), which are not copied."""
    head = (_CALL_ID_TAG + varint(call_id) if call_id else b"") + _ANSWER_TAGS[kind] + varint(size)
    parts = [(len(head) + size).to_bytes(HEADER_BYTES, "big") + head]
    parts += body
    return parts



# A result's data up to this size is copied into the frame's one piece (one bytes object to write
# rather than three); larger data travels as its own piece, never copied.
_JOIN_UNDER = 4096
# `Payload.content_type` fields (tag, length, text) by content type, made on first use.
_CONTENT_TYPES: Dict[str, bytes] = {}
_RESULT_FRAME_TAG = _ANSWER_TAGS["execute_result"]


def result_frame(call_id: int, content_type: str, data: bytes, duration_ms: float) -> "tuple[List[bytes], int]":
    """The whole frame of a unary result, `envelope_parts(call_id, "execute_result",
    serialized_result(content_type, data, duration_ms), size)` in one step (byte-identical, tested),
    and `size`, the bytes of its `ExecuteResponse`. One piece, or two or three when `data` is large."""
    ct = _CONTENT_TYPES.get(content_type)
    if ct is None:
        ct = _content_type_field(content_type)
    n = len(data)
    if n:
        data_head = _DATA_TAG + (_SMALL[n] if n < 0x80 else varint(n))
        payload_size = len(ct) + len(data_head) + n
    else:
        data_head = b""
        payload_size = len(ct)
    tail = _DURATION_TAG + _double(duration_ms) if duration_ms != 0.0 else b""
    response_head = _RESULT_TAG + (_SMALL[payload_size] if payload_size < 0x80 else varint(payload_size))
    size = len(response_head) + payload_size + len(tail)
    head = (_CALL_ID_TAG + (_SMALL[call_id] if call_id < 0x80 else varint(call_id)) if call_id else b"") + \
        _RESULT_FRAME_TAG + (_SMALL[size] if size < 0x80 else varint(size))
    prefix = (len(head) + size).to_bytes(HEADER_BYTES, "big")
    if n < _JOIN_UNDER:
        return [b"".join((prefix, head, response_head, ct, data_head, data, tail))], size
    head = b"".join((prefix, head, response_head, ct, data_head))
    return ([head, data, tail] if tail else [head, data]), size


def _content_type_field(content_type: str) -> bytes:
    encoded = content_type.encode("utf-8")
    ct = _CONTENT_TYPE_TAG + varint(len(encoded)) + encoded if encoded else b""
    if len(_CONTENT_TYPES) < 64:  # the few a worker sends; never an unbounded cache
        _CONTENT_TYPES[content_type] = ct
    return ct


__all__ = ["HEADER_BYTES", "envelope", "envelope_parts", "result_frame", "serialized_result", "varint"]
