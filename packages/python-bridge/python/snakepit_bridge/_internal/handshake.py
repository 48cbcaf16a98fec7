"""The readiness handshake on the control fd: one JSON line, never on stdout."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional


def write_event(control_fd: Optional[int], event: Dict[str, Any]) -> None:
    """Write one JSON line to the control fd (a no-op without one)."""
    if control_fd is None:
        return
    data = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
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
