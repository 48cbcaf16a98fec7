"""snakepit_bridge: serve Python tools to a Snakepit for Node host.

Importing this package does not import grpc (the worker entry point configures grpc first).
The public API is `__all__` below; `snakepit_bridge._internal` is private and may change in any
release.
"""

import typing as _typing

from ._internal.adapter import Adapter
from ._internal.call_context import CallContext, current_call
from ._internal.errors import HostToolError, ToolError
from ._internal.session import SessionContext, SessionError
from ._internal.tools import tool
from ._internal.version import __version__


def bootstrap_otlp(service_name: _typing.Optional[str] = None) -> bool:
    """Export this worker's tool spans over OTLP/HTTP (needs `opentelemetry-sdk` and
    `opentelemetry-exporter-otlp-proto-http`); returns False when OpenTelemetry is disabled or
    missing. Only for workers with no OpenTelemetry set-up of their own."""
    from ._internal.otel import bootstrap_otlp as _bootstrap

    return _bootstrap(service_name)


__all__ = [
    # for adapter authors
    "Adapter",
    "tool",
    "ToolError",
    "current_call",
    "SessionContext",
    # types and errors met while a tool runs
    "CallContext",
    "HostToolError",
    "SessionError",
    # observability
    "bootstrap_otlp",
    "__version__",
]
