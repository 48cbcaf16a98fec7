"""Self-termination: graceful first (stop serving, cleanup, take the children along), hard after a grace.

Several lifelines may fire at once, so `terminate()` is idempotent: the first reason wins.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from typing import Callable, List, Optional

from . import procfs

log = logging.getLogger("snakepit_bridge.termination")

EXIT_GRACEFUL = 0
EXIT_STARTUP_FAILED = 1
EXIT_HARD_FALLBACK = 70


def _own_processes() -> List[int]:
    """The worker's own child processes: its process-group members when it leads the group."""
    me = os.getpid()
    if os.getpgid(0) == me:
        return [pid for pid in procfs.group_members(me) if pid != me]
    return procfs.descendants(me)


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def kill_own_processes(term_wait_s: float) -> None:
    """SIGTERM every other member of the worker's process group, wait, then SIGKILL survivors."""
    pids = _own_processes()
    if not pids:
        return
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + term_wait_s
    while time.monotonic() < deadline:
        _reap()
        if not [pid for pid in pids if procfs.is_alive(pid)]:
            return
        time.sleep(0.02)
    for pid in _own_processes():
        _signal(pid, signal.SIGKILL)
    _reap()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _remove(paths: List[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass


class SelfTerminator:
    """Runs the shutdown steps once; a fallback thread forces `os._exit(70)` after `grace_ms`."""

    def __init__(self, grace_ms: int) -> None:
        self._grace_s = max(grace_ms, 100) / 1000
        self._lock = threading.Lock()
        self._started = False
        self._steps: List[Callable[[float], None]] = []
        self.reason: Optional[str] = None
        self.exit_code = EXIT_GRACEFUL
        self.finished = threading.Event()
        # Files (the worker's socket) removed on both the graceful and the hard path. Creating one
        # (binding the socket) and removing them are serialised by `files_lock`: once shutdown has
        # taken it, it never gives it back, so no file can appear between removal and exit.
        self.files_to_remove: List[str] = []
        self.files_lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._started

    def add_step(self, step: Callable[[float], None]) -> None:
        """Add a shutdown step; it receives the seconds left before the hard fallback."""
        self._steps.append(step)

    def terminate(self, reason: str, delay_s: float = 0.0) -> bool:
        """Start shutting down (in a new thread); False when shutdown had already started."""
        with self._lock:
            if self._started:
                return False
            self._started = True
            self.reason = reason
        # The hard-exit thread starts before anything that could block or raise (logging to a full
        # or broken stderr, say): once shutdown has started, the process is certain to end.
        deadline = time.monotonic() + delay_s + self._grace_s
        threading.Thread(target=self._fallback, args=(deadline,), name="snakepit-hard-exit", daemon=True).start()
        try:
            log.info("worker shutting down: %s", reason)
        except Exception:  # noqa: BLE001 - logging must never stop a shutdown
            pass
        threading.Thread(target=self._run, args=(delay_s, deadline), name="snakepit-shutdown", daemon=True).start()
        return True

    def _run(self, delay_s: float, deadline: float) -> None:
        if delay_s > 0:
            time.sleep(delay_s)
        for step in self._steps:
            try:
                step(max(deadline - time.monotonic(), 0.0))
            except Exception:  # one failing step must not block the others
                log.exception("shutdown step failed")
        try:
            kill_own_processes(term_wait_s=min(0.5, max(deadline - time.monotonic(), 0.05)))
        except Exception:
            log.exception("killing child processes failed")
        self.files_lock.acquire()
        _remove(self.files_to_remove)
        self.finished.set()
        log.info("worker exiting with code %d", self.exit_code)
        logging.shutdown()
        sys.stderr.flush()
        # os._exit from here, not from the main thread, which may still be busy (e.g. in setup()),
        # and so that tool threads ignoring cancellation cannot keep the process alive.
        os._exit(self.exit_code)

    def _fallback(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if self.finished.wait(max(remaining, 0)):
            return
        try:
            for pid in _own_processes():
                _signal(pid, signal.SIGKILL)
            self.files_lock.acquire(timeout=1.0)
            _remove(self.files_to_remove)
            sys.stderr.write('{"level":"error","logger":"snakepit_bridge.termination","msg":"graceful shutdown '
                             'overran its grace period; exiting hard"}\n')
            sys.stderr.flush()
        finally:
            os._exit(EXIT_HARD_FALLBACK)

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT take the same graceful path (main thread only)."""

        def handler(signum: int, frame: object) -> None:
            self.terminate(f"signal {signal.Signals(signum).name}")

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def wait(self) -> None:
        """Block the main thread (interruptibly, so signal handlers run) until the process exits."""
        while True:
            self.finished.wait(0.5)
