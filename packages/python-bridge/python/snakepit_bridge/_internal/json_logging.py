"""The worker's logging: structured records on the control channel, never parsed out of stdout/stderr.

With a control fd (always, when a host starts the worker) every log record is one JSON line on
it, `{"event":"log","level":...,"msg":...,"logger":...,"ts":...,"pid":...}` plus the current
call's `call_id` and `correlation_id` (taken from the call's context, set by the host) and `exc`.
stdout and stderr stay plain text that the host logs as text lines: whatever a tool prints, it
cannot forge a record. Without a control fd (a worker run by hand) records go to stderr as text.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any, Dict, Optional

from . import handshake
from .call_context import current_call

_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "warning": logging.WARNING, "error": logging.ERROR, "fatal": logging.CRITICAL, "critical": logging.CRITICAL,
           "silent": logging.CRITICAL + 10}


def log_event(record: logging.LogRecord, exc: Optional[str] = None) -> Dict[str, Any]:
    """The control-channel event of one log record."""
    event: Dict[str, Any] = {
        "event": "log",
        "level": record.levelname.lower().replace("warning", "warn"),
        "msg": record.getMessage(),
        "logger": record.name,
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
        "pid": record.process,
    }
    call = current_call()
    if call is not None:
        if call.correlation_id:
            event["correlation_id"] = call.correlation_id
        if call.call_id:
            event["call_id"] = call.call_id
    if exc:
        event["exc"] = exc
    return event


class ControlChannelHandler(logging.Handler):
    """Writes each record as one `{"event":"log",...}` JSON line to the control fd."""

    def __init__(self, control_fd: int) -> None:
        super().__init__()
        self._fd = control_fd
        self._exc_formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            exc = self._exc_formatter.formatException(record.exc_info) if record.exc_info else None
            handshake.write_event(self._fd, log_event(record, exc))
        except Exception:  # noqa: BLE001 - logging must never break the code that logs
            self.handleError(record)


def install_logging(control_fd: Optional[int]) -> None:
    """Replace the root logger's handlers: records to the control fd, or as text to stderr without
    one. The level comes from `SNAKEPIT_LOG_LEVEL` (default info)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if control_fd is not None:
        root.addHandler(ControlChannelHandler(control_fd))
    else:
        text = logging.StreamHandler(sys.stderr)
        text.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(text)
    root.setLevel(_LEVELS.get(os.environ.get("SNAKEPIT_LOG_LEVEL", "info").strip().lower(), logging.INFO))
