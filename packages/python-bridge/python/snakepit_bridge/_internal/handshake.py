"""The control fd: the readiness handshake and then log records, JSON lines, never on stdout."""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Optional

# Lines from several threads (the handshake, every thread that logs) must not interleave. An RLock,
# as logging's own: a signal handler that logs may interrupt its thread in the middle of a write.
_write_lock = threading.RLock()


def write_event(control_fd: Optional[int], event: Dict[str, Any]) -> None:
    """Write one JSON line to the control fd (a no-op without one). Values JSON cannot carry are
    written as their `str()`."""
    if control_fd is None:
        return
    data = (json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode("utf-8")
    with _write_lock:
        try:
            while data:
                data = data[os.write(control_fd, data):]
        except OSError:
            pass  # the host is gone; the pipe lifeline will notice


def ready_event(address: str, tools: int) -> Dict[str, Any]:
    return {"event": "ready", "address": address, "pid": os.getpid(), "tools": tools}


def error_event(code: str, info: Dict[str, str]) -> Dict[str, Any]:
    """The start-up failure line; `code` is one of `gen.constants.STARTUP_ERROR_CODES`."""
    return {"event": "error", "code": code, **info}
