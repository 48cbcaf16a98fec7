"""Protobuf wire bytes written by hand for the frames transport's hottest answers: varints, a unary
result (`ExecuteResponse`) and the `Frame` envelope around an already-serialised answer. Each is
byte-identical to what the generated classes' `SerializeToString()` writes (tests/test_frames.py);
the pieces are returned unjoined so that a large result's data is never copied."""

from __future__ import annotations

import struct
from typing import List

HEADER_BYTES = 4  # the frame's length prefix: a 4-byte unsigned big-endian length

_DURATION_TAG = bytes([(3 << 3) | 1])  # ExecuteResponse.duration_ms, a fixed64 double
_RESULT_TAG = bytes([(1 << 3) | 2])  # ExecuteResponse.result
_CONTENT_TYPE_TAG = bytes([(1 << 3) | 2])  # Payload.content_type
_DATA_TAG = bytes([(2 << 3) | 2])  # Payload.data
_double = struct.Struct("<d").pack


def varint(value: int) -> bytes:
    """A protobuf varint (unsigned)."""
    if value < 0x80:
        return bytes((value,))
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



__all__ = ["HEADER_BYTES", "envelope", "envelope_parts", "serialized_result", "varint"]
