"""Errors raised by tools and by the bridge, and their wire form (`ToolError`)."""

from __future__ import annotations

import json
import traceback as traceback_module
from typing import Any, Dict, Optional

from ..gen import common_pb2


class ToolError(Exception):
    """Raise from a tool to return a structured error with JSON `details` to the host."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


ToolError.__module__ = "snakepit_bridge"


class HostToolError(Exception):
    """A host-side tool (JavaScript function) failed; raised by `call_host_tool`."""

    def __init__(
        self,
        type: str,
        message: str,
        details: Any = None,
        code: str = "",
        traceback: str = "",
    ) -> None:
        super().__init__(f"{type}: {message}" if type else message)
        self.type = type
        self.message = message
        self.details = details
        self.code = code
        self.traceback = traceback


HostToolError.__module__ = "snakepit_bridge"


class BridgeError(Exception):
    """An error the bridge raises itself (unknown tool, bad arguments, cancelled call); carries a
    code from `gen.constants.TOOL_ERROR_CODES` (defined in proto/snakepit/bridge/v1/constants.json)."""

    def __init__(self, code: str, message: str, type: str = "TypeError") -> None:
        super().__init__(message)
        self.code = code
        self.type = type
        self.message = message


class ContainedError(Exception):
    """A `BaseException` that is not an `Exception` (`SystemExit`, `KeyboardInterrupt`,
    `GeneratorExit`, a library's own), raised by tool code, carried as an ordinary exception.

    Left as it is, such an exception escapes every `except Exception` on its way: in a gRPC
    thread the call would never be answered, on the event loop it would stop the loop. Contained,
    it ends only its own call, as a `ToolError` with the original type, message and traceback.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def contain(error: BaseException) -> Exception:
    """`error` itself when it is an `Exception`, else wrapped in `ContainedError`."""
    return error if isinstance(error, Exception) else ContainedError(error)


def uncontain(error: BaseException) -> BaseException:
    """The exception the tool raised (unwraps `ContainedError`)."""
    return error.error if isinstance(error, ContainedError) else error


def qualified_name(cls: type) -> str:
    """`ValueError` for builtins, `module.Class` otherwise."""
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in ("builtins", "__main__") else f"{module}.{name}"


def _details_payload(details: Any) -> Optional[common_pb2.Payload]:
    if details is None:
        return None
    try:
        # allow_nan=False: NaN/Infinity are not JSON, and the host would fail to parse them.
        data = json.dumps(details, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
    return common_pb2.Payload(content_type="application/json", data=data.encode("utf-8"))


def _format_traceback(error: BaseException) -> str:
    tb = error.__traceback__
    # Drop the bridge's own frames so the user's innermost frame is last and the first is theirs.
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("snakepit_bridge."):
        if tb.tb_next is None:
            break
        tb = tb.tb_next
    return "".join(traceback_module.format_exception(type(error), error, tb))


def error_to_proto(error: BaseException) -> common_pb2.ToolError:
    """Turn any exception into the wire `ToolError`."""
    error = uncontain(error)
    if isinstance(error, BridgeError):
        proto = common_pb2.ToolError(type=error.type, message=error.message, code=error.code)
        bridge_details = _details_payload(getattr(error, "details", None))
        if bridge_details is not None:
            proto.details.CopyFrom(bridge_details)
        return proto
    message = error.message if isinstance(error, ToolError) else str(error)
    proto = common_pb2.ToolError(
        type=qualified_name(type(error)),
        message=message,
        traceback=_format_traceback(error),
    )
    details = _details_payload(getattr(error, "details", None))
    if details is not None:
        proto.details.CopyFrom(details)
    return proto


def error_info(error: BaseException) -> Dict[str, str]:
    """The `{type, message, traceback}` object used in control-fd and `--check` JSON."""
    error = uncontain(error)
    return {
        "type": qualified_name(type(error)),
        "message": str(error),
        "traceback": "".join(traceback_module.format_exception(type(error), error, error.__traceback__)),
    }
