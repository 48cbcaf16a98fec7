"""snakepit_bridge: serve Python tools to a Snakepit for Node host.

Importing this package does not import grpc (the worker entry point configures grpc first).
"""

from .adapter import Adapter
from .call_context import CallContext, current_call
from .errors import HostToolError, ToolError
from .session import SessionContext
from .tools import tool
from .version import __version__

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
    "__version__",
]
