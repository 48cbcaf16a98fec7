"""The control fd: the readiness handshake and then log records, JSON lines, never on stdout."""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Optional

from ..gen.constants import PROTOCOL_VERSION_MISMATCH
from .version import PROTOCOL_VERSION, __version__

# The host's protocol version, set by the host when it starts a worker or a fork server.
HOST_PROTOCOL_ENV = "SNAKEPIT_PROTOCOL"
# The snakepit_bridge package directory (this module is snakepit_bridge/_internal/handshake.py).
_BRIDGE_PATH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

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
    return {"event": "ready", "address": address, "pid": os.getpid(), "tools": tools,
            "protocol": PROTOCOL_VERSION, "bridge": __version__, "bridge_path": _BRIDGE_PATH}


def protocol_mismatch() -> Optional[Dict[str, Any]]:
    """The error event for a host that speaks another protocol version, or None when it matches
    (or the host did not say: the host checks our version in the ready line too)."""
    host = os.environ.get(HOST_PROTOCOL_ENV)
    if host is None or host == str(PROTOCOL_VERSION):
        return None
    message = (f"this snakepit_bridge {__version__} at {_BRIDGE_PATH} speaks protocol {PROTOCOL_VERSION}, "
               f"the host's @snakepit/python-bridge speaks protocol {host}: install the bridge that "
               f"comes with the host's @snakepit/python-bridge, or uninstall this one")
    event = error_event(PROTOCOL_VERSION_MISMATCH, {"type": "ProtocolVersionMismatch", "message": message,
                                                    "traceback": "", "bridge": __version__,
                                                    "bridge_path": _BRIDGE_PATH})
    event["protocol"] = PROTOCOL_VERSION
    return event


def error_event(code: str, info: Dict[str, str]) -> Dict[str, Any]:
    """The start-up failure line; `code` is one of `gen.constants.STARTUP_ERROR_CODES`."""
    return {"event": "error", "code": code, **info}
