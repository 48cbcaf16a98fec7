"""The context of the running tool call, reachable from tool code through `current_call()`."""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from ..gen.constants import ABORTED, WORKER_STOPPED
from .errors import BridgeError

if TYPE_CHECKING:
    from .session import SessionContext

_current: "contextvars.ContextVar[Optional[CallContext]]" = contextvars.ContextVar("snakepit_call", default=None)


@dataclass(eq=False)
class CallContext:
    """What a tool knows about the call it is serving.

    `cancelled` is set when the host cancels the call or its deadline passes; sync tools poll it
    (or call `raise_if_cancelled()`, or read `is_cancelled`), async tools are cancelled,
    generators are closed.
    """

    call_id: str = ""
    correlation_id: str = ""
    session_id: str = ""
    timeout_ms: int = 0
    metadata: Dict[str, str] = field(default_factory=dict)
    session: Optional["SessionContext"] = None
    tool: str = ""
    _host_call: Optional[Callable[..., Any]] = field(default=None, repr=False)
    _cancel_hooks: List[Callable[[], None]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cancel_code: str = field(default=ABORTED, repr=False)
    _is_cancelled: bool = field(default=False, repr=False)
    # Made on first use of `cancelled`: most calls never wait on it, and an Event costs more to
    # make than the rest of a small call's context.
    _event: Optional[threading.Event] = field(default=None, repr=False)

    @property
    def cancelled(self) -> threading.Event:
        """Set when the call is cancelled; wait on it, or poll `is_set()` (`is_cancelled` is cheaper)."""
        event = self._event
        if event is None:
            with self._lock:
                event = self._event
                if event is None:
                    event = self._event = threading.Event()
                    if self._is_cancelled:
                        event.set()
        return event

    @property
    def is_cancelled(self) -> bool:
        """True once the call is cancelled."""
        return self._is_cancelled

    def raise_if_cancelled(self) -> None:
        """Raise the call's cancellation error (see `cancellation_error`) if it was cancelled."""
        if self._is_cancelled:
            raise self.cancellation_error()

    def cancellation_error(self) -> BridgeError:
        """What a cancelled call ends with: `ABORTED` when the host cancelled it (its caller aborted or
        its deadline passed), `WORKER_STOPPED` when the worker's shutdown did."""
        why = "the worker is shutting down" if self._cancel_code == WORKER_STOPPED else "the host cancelled it"
        return BridgeError(self._cancel_code, f"Call {self.call_id or self.tool!r} was cancelled: {why}",
                           type="CancelledError")

    def call_host_tool(self, name: str, **kwargs: Any) -> Any:
        """Call a host-side (JavaScript) tool; raises `HostToolError` if it fails."""
        if self._host_call is None:
            raise RuntimeError("call_host_tool needs a host service: start the worker with --host-address")
        return self._host_call(name, kwargs, self)

    def cancel(self, code: str = ABORTED) -> None:
        """Cancel the call (the first cancellation's `code` wins) and run its cancel hooks."""
        with self._lock:
            if self._is_cancelled:
                return
            self._cancel_code = code
            self._is_cancelled = True
            if self._event is not None:
                self._event.set()
            hooks, self._cancel_hooks = self._cancel_hooks, []
        for hook in hooks:
            hook()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Run `hook` when the call is cancelled (now, if it already is)."""
        with self._lock:
            if not self._is_cancelled:
                self._cancel_hooks.append(hook)
                return
        hook()


def current_call() -> Optional[CallContext]:
    """The `CallContext` of the tool call running in this thread/task, or None outside a call."""
    return _current.get()


def activate(call: Optional[CallContext]) -> contextvars.Token[Optional[CallContext]]:
    return _current.set(call)


def deactivate(token: contextvars.Token[Optional[CallContext]]) -> None:
    _current.reset(token)
