"""`FrameWriter`: frames from any thread, coalesced into one `sendmsg` (see frame_server.py)."""

from __future__ import annotations

import socket
import threading
from typing import List

_IOV_MAX = 512


class FrameWriter:
    """Sends frames from any thread; what queues up while one thread writes goes out in its next
    `sendmsg` (a combining writer: no thread waits for another's write to start its own)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._pending: List[bytes] = []
        self._writing = False
        self.broken = False

    def hold(self, parts: List[bytes]) -> None:
        """Queues frames without writing them: they go out with the next `send` or `flush`."""
        with self._lock:
            if not self.broken:
                self._pending.extend(parts)

    def flush(self) -> None:
        """Writes what `hold` queued."""
        if self._pending:
            self.send([])

    def send(self, parts: List[bytes]) -> None:
        lock = self._lock
        with lock:
            if self.broken:
                return
            batch = self._pending
            batch.extend(parts)
            if self._writing or not batch:
                return
            self._writing = True
            self._pending = []
        while True:  # this thread writes until nothing is left, also what others queue meanwhile
            try:
                self._send_all(batch)
            except OSError:
                with lock:
                    self.broken = True
                    self._writing = False
                    self._pending = []
                return
            with lock:
                batch, self._pending = self._pending, []
                if not batch or self.broken:
                    self._writing = False
                    return

    def _send_all(self, parts: List[bytes]) -> None:
        if len(parts) <= _IOV_MAX:
            # Usually the whole batch goes in one call; only a partial write needs the views.
            total = sum(map(len, parts))
            sent = self._sock.sendmsg(parts)
            if sent == total:
                return
            views = _unsent([memoryview(p) for p in parts if len(p)], sent)
        else:
            views = [memoryview(p) for p in parts if len(p)]
        while views:
            batch = views[:_IOV_MAX]
            views = _unsent(batch, self._sock.sendmsg(batch)) + views[_IOV_MAX:]


def _unsent(views: List[memoryview], sent: int) -> List[memoryview]:
    """What is left of `views` once the first `sent` bytes went out."""
    i = 0
    while i < len(views) and sent >= len(views[i]):
        sent -= len(views[i])
        i += 1
    if i < len(views) and sent:
        views[i] = views[i][sent:]
    return views[i:]


__all__ = ["FrameWriter"]
