"""`CallTracker`: how many calls a worker admits and runs at once, and what heartbeats report.
Shared by both transports (the gRPC servicer and the frame server)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Generator, Optional, Tuple

from .call_context import CallContext
from ..gen.constants import WORKER_STOPPED


class CallTracker:
    """At most `concurrency` tools run at once; at most `max_admitted` calls are held (running or
    waiting for a slot; default `2 * concurrency + 2`). Counts what heartbeats report."""

    def __init__(self, worker_id: str, concurrency: int, max_admitted: Optional[int] = None) -> None:
        self._worker_id = worker_id
        self._concurrency = concurrency
        self.max_admitted = 2 * concurrency + 2 if max_admitted is None else max_admitted
        # Never re-entered: a plain Lock is cheaper than the default RLock. Taken as `with
        # self._lock` (C) rather than `with self._cond` (Python-level __enter__/__exit__ per call);
        # waits and notifications go through the condition over that same lock.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._admitted = 0
        self._running = 0
        self._calls_served = 0
        self._calls: "set[CallContext]" = set()
        self._draining = False
        self._slot_waiters = 0

    def counts(self) -> Tuple[int, int]:
        """(calls held now — running, or admitted and waiting for a slot — and calls served so far).
        Held, not only running: a call the host cancelled counts until the worker has let go of it,
        also while a call dispatched ahead waits behind it (the pool's `stuck` check relies on it)."""
        with self._lock:
            return self._admitted, self._calls_served

    def admit(self) -> Optional[Tuple[str, str]]:
        """Count the call in, or return why not: `("unavailable" | "exhausted", message)`."""
        with self._lock:
            if self._draining:
                return ("unavailable", "worker is shutting down")
            if self._admitted >= self.max_admitted:
                return ("exhausted", f"worker {self._worker_id} already holds {self._admitted} calls")
            self._admitted += 1
            return None

    def release(self) -> None:
        """Count out an admitted call that never took a slot (cancelled while it waited)."""
        with self._lock:
            self._admitted -= 1
            self._cond.notify_all()

    def drain(self, grace_s: float, settle_s: float = 0.5) -> None:
        """Refuse new calls, wait up to `grace_s` for running ones, then cancel what is left and
        give cooperative tools up to `settle_s` to notice."""
        deadline = time.monotonic() + grace_s
        with self._lock:
            self._draining = True
            while self._admitted and time.monotonic() < deadline:
                self._cond.wait(max(deadline - time.monotonic(), 0))
            leftovers = list(self._calls)
        for call in leftovers:
            call.cancel(WORKER_STOPPED)
        with self._lock:  # give cooperative tools a moment to notice the cancellation
            settle = time.monotonic() + settle_s
            while self._admitted and time.monotonic() < settle:
                self._cond.wait(max(settle - time.monotonic(), 0))

    def enter(self, call: CallContext) -> None:
        """Wait for one of the `concurrency` slots (raising the call's cancellation error if it is
        cancelled meanwhile); then `leave(call, True)`. On a raise, `leave(call, False)`."""
        with self._lock:
            while self._running >= self._concurrency:
                if call.is_cancelled:
                    raise call.cancellation_error()
                self._slot_waiters += 1
                try:
                    self._cond.wait(0.05)  # woken by `leave`; the timeout re-checks cancellation
                finally:
                    self._slot_waiters -= 1
            self._running += 1
            self._calls.add(call)

    def leave(self, call: CallContext, entered: bool) -> None:
        """Count out an admitted call after `enter` (`entered`: it got a slot)."""
        with self._lock:
            self._admitted -= 1
            if entered:
                self._running -= 1
                self._calls_served += 1
                self._calls.discard(call)
            if self._draining or self._slot_waiters:  # only they wait on this condition
                self._cond.notify_all()

    @contextmanager
    def slot(self, call: CallContext) -> Generator[None, None, None]:
        """`enter` / `leave` as a context manager; always releases the admission."""
        entered = False
        try:
            self.enter(call)
            entered = True
            yield
        finally:
            self.leave(call, entered)


__all__ = ["CallTracker"]
