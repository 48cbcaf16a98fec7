"""`FrameReader`: the frames read from a socket, parsed with the generated classes (see
frame_server.py)."""

from __future__ import annotations

import socket
import struct
from typing import Any, List, Optional

from ..gen import frame_pb2
from .wire import HEADER_BYTES

_READ_SIZE = 256 * 1024


class ProtocolError(Exception):
    """The peer broke the frame protocol; the connection closes."""


class FrameReader:
    """Reads `[u32 length][Frame]` frames. Received bytes land in one reused buffer (no allocation
    per read); a frame split across reads is carried over; a frame larger than the buffer is read
    straight into a buffer of its own size. A length over `limit` (0: none), a frame that does not
    parse, or EOF inside a frame raises `ProtocolError`. Not thread-safe: one reader at a time."""

    def __init__(self, sock: socket.socket, limit: int) -> None:
        self._sock = sock
        self._limit = limit
        self._buf = bytearray(_READ_SIZE)
        self._view = memoryview(self._buf)
        self._carry = bytearray()

    def read(self) -> Optional[List[Any]]:
        """The complete frames of one `recv` (possibly none), parsed; None at EOF."""
        limit, carry = self._limit, self._carry
        n = self._sock.recv_into(self._view)
        if n == 0:
            if carry:
                raise ProtocolError(f"EOF inside a frame ({len(carry)} bytes of it received)")
            return None
        if carry:
            carry += self._view[:n]
            data = memoryview(carry)
        else:
            data = self._view[:n]
        pos, end = 0, len(data)
        frames = []
        while end - pos >= HEADER_BYTES:
            (size,) = _unpack_size(data, pos)
            if limit and size > limit:
                raise ProtocolError(f"a frame of {size} bytes is over the {limit}-byte limit")
            start = pos + HEADER_BYTES
            if end - start < size:
                if size > _READ_SIZE:  # a large frame: read the rest straight into its own buffer
                    body = bytearray(size)
                    have = end - start
                    body[:have] = data[start:end]
                    self._read_exact(memoryview(body)[have:])
                    frames.append(_parse(body))
                    pos = end
                break
            pos = start + size
            try:
                frames.append(_from_string(data[start:pos]))
            except Exception:  # noqa: BLE001 - DecodeError and friends: `_parse` raises the ProtocolError
                frames.append(_parse(data[start:pos]))
        rest = bytes(data[pos:end]) if pos < end else b""
        data.release()
        if carry:
            carry.clear()
        if rest:
            carry += rest
        return frames

    def _read_exact(self, view: memoryview) -> None:
        while len(view):
            n = self._sock.recv_into(view)
            if n == 0:
                raise ProtocolError("EOF inside a frame")
            view = view[n:]


def frames_socket(fd: int) -> socket.socket:
    """The inherited frames socket (a socketpair end), as a blocking socket."""
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    return sock


_unpack_size = struct.Struct(">I").unpack_from
_from_string = frame_pb2.Frame.FromString


def _parse(data: Any) -> Any:
    try:
        return frame_pb2.Frame.FromString(data)
    except Exception as error:  # noqa: BLE001 - DecodeError and friends
        raise ProtocolError(f"a frame does not parse ({type(error).__name__})") from None


__all__ = ["FrameReader", "ProtocolError", "frames_socket"]
