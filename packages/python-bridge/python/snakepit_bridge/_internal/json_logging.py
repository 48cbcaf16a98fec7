"""JSON-lines logging to stderr, with the worker id and the current call's correlation id."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from .call_context import current_call

_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "warning": logging.WARNING, "error": logging.ERROR, "fatal": logging.CRITICAL, "critical": logging.CRITICAL,
           "silent": logging.CRITICAL + 10}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, worker_id, correlation_id, exc."""

    def __init__(self, worker_id: str) -> None:
        super().__init__()
        self._worker_id = worker_id

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower().replace("warning", "warn"),
            "logger": record.name,
            "msg": record.getMessage(),
            "worker_id": self._worker_id,
            "pid": record.process,
        }
        call = current_call()
        if call is not None:
            if call.correlation_id:
                entry["correlation_id"] = call.correlation_id
            if call.call_id:
                entry["call_id"] = call.call_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def install_json_logging(worker_id: str) -> None:
    """Replace the root logger's handlers with one JSON handler on stderr (`SNAKEPIT_LOG_LEVEL`)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(worker_id))
    root.addHandler(handler)
    root.setLevel(_LEVELS.get(os.environ.get("SNAKEPIT_LOG_LEVEL", "info").strip().lower(), logging.INFO))
