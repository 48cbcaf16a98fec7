"""`StreamCredit`: a frames stream's backpressure (see frame_server.py)."""

from __future__ import annotations

import threading
from typing import Callable

from .call_context import CallContext


class StreamCredit:
    """Credit of one streaming call on the frames transport: the host grants chunks (`credit`
    frames), the call thread takes one before each chunk it sends (backpressure). `need_reader` is
    called when the call thread is about to wait, so that someone reads the credit frames."""

    def __init__(self, call: CallContext, need_reader: Callable[[], None]) -> None:
        self.credit = 0
        self.cond = threading.Condition()
        self._need_reader = need_reader
        call.on_cancel(self.wake)

    def add(self, chunks: int) -> None:
        with self.cond:
            self.credit += chunks
            self.cond.notify()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify()

    def take(self, call: CallContext) -> bool:
        """Waits for one chunk of credit; False when the call was cancelled meanwhile."""
        with self.cond:
            if self.credit <= 0:
                self._need_reader()
            while self.credit <= 0:
                if call.is_cancelled:
                    return False
                self.cond.wait(0.5)
            self.credit -= 1
            return True


__all__ = ["StreamCredit"]
