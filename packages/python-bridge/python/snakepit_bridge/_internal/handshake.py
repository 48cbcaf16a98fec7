"""The readiness handshake on the control fd: one JSON line, never on stdout."""

from __future__ import annotations

import json
import os
from typing import Optional

ADAPTER_LOAD_FAILED = "ADAPTER_LOAD_FAILED"
WORKER_START_FAILED = "WORKER_START_FAILED"
INVALID_OPTIONS = "INVALID_OPTIONS"


def write_event(control_fd: Optional[int], event: dict) -> None:
    """Write one JSON line to the control fd (a no-op without one)."""
    if control_fd is None:
        return
    data = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    try:
        while data:
            data = data[os.write(control_fd, data):]
    except OSError:
        pass  # the host is gone; the pipe lifeline will notice


def ready_event(address: str, tools: int) -> dict:
    return {"event": "ready", "address": address, "pid": os.getpid(), "tools": tools}


def error_event(code: str, info: dict) -> dict:
    return {"event": "error", "code": code, **info}
