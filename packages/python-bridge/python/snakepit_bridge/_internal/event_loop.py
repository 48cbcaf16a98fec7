"""The one asyncio event loop thread that runs every `async def` tool of a worker."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from typing import Any, Awaitable, Callable, Dict, Optional

from .errors import ContainedError

log = logging.getLogger("snakepit_bridge.event_loop")


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    """Runs `loop` until `stop()`. A callback that raises `SystemExit` or `KeyboardInterrupt`
    (which asyncio lets out of `run_forever`) is logged and the loop runs on: every async call
    of the worker depends on this one thread."""
    while True:
        try:
            loop.run_forever()
            return
        except BaseException as error:  # noqa: BLE001 - only stop() ends this loop
            log.error("a callback on the event loop raised %s: %s; the loop keeps running",
                      type(error).__name__, error)


class AsyncCall:
    """A coroutine running on the loop thread. `cancel()` cancels the task itself, so `result()`
    returns (or raises CancelledError) only once the task has really finished."""

    def __init__(self, future: "concurrent.futures.Future[Any]", cancel: Callable[[], None]) -> None:
        self._future = future
        self.cancel = cancel

    def result(self, timeout: Optional[float] = None) -> Any:
        return self._future.result(timeout)


class EventLoopThread:
    """Started lazily on the first async call; tools' coroutines all run on this one loop."""

    def __init__(self) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=_run_forever, args=(loop,), name="snakepit-asyncio", daemon=True).start()
                self._loop = loop
            return self._loop

    def submit(self, awaitable: Awaitable[Any]) -> AsyncCall:
        """Schedule `awaitable`; the calling thread's contextvars (the current call) are copied in."""
        loop = self._ensure()
        state: Dict[str, Any] = {"task": None, "cancelled": False}

        async def wrapped() -> Any:
            state["task"] = asyncio.current_task()
            if state["cancelled"]:
                close = getattr(awaitable, "close", None)
                if close is not None:
                    close()
                raise asyncio.CancelledError()
            try:
                return await awaitable
            except (Exception, asyncio.CancelledError):
                raise
            except BaseException as error:  # noqa: BLE001 - SystemExit & co. would stop the loop
                raise ContainedError(error) from None

        def cancel_in_loop() -> None:
            state["cancelled"] = True
            if state["task"] is not None:
                state["task"].cancel()

        future = asyncio.run_coroutine_threadsafe(wrapped(), loop)

        def cancel() -> None:
            try:
                loop.call_soon_threadsafe(cancel_in_loop)
            except RuntimeError:
                pass  # loop closed during shutdown

        return AsyncCall(future, cancel)

    def run(self, awaitable: Awaitable[Any], timeout: Optional[float] = None) -> Any:
        return self.submit(awaitable).result(timeout)

    def stop(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
