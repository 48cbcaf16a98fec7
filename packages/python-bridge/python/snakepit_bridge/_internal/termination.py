"""Self-termination: graceful first (stop serving, cleanup, take the children along), hard after a grace.

Several lifelines may fire at once, so `terminate()` is idempotent: the first reason wins. When
the host is gone (`host_gone=True`: a lifeline fired, or a SIGTERM arrived and the host is seen
dead) nobody can receive a result, so the steps do not wait for calls in flight; the adapter's
`cleanup()` still runs, bounded by the same hard fallback.
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


def _descendants_cheaply() -> List[int]:
    """The worker's descendants from `/proc/<pid>/task/*/children` (a few reads, where scanning all
    of /proc reads one file per process on the machine); [] where the kernel does not list them."""
    found: List[int] = []
    stack = [os.getpid()]
    while stack:
        pid = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    children = [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                continue
            found += children
            stack += children
    return found


def kill_own_processes(term_wait_s: float, host_gone: bool = False) -> None:
    """SIGTERM every other member of the worker's process group, wait, then SIGKILL survivors.

    With `host_gone`, the cheap way: SIGTERM the whole group at once (this process ignores it: its
    shutdown has started) and wait only for its descendants."""
    if host_gone and os.getpgid(0) == os.getpid():
        pids = _descendants_cheaply()
        _signal_group(signal.SIGTERM)
        _wait_then_kill(pids, term_wait_s)
        return
    pids = _own_processes()
    if not pids:
        return
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    if _wait_then_kill(pids, term_wait_s):
        return
    for pid in _own_processes():
        _signal(pid, signal.SIGKILL)
    _reap()


def _wait_then_kill(pids: List[int], wait_s: float) -> bool:
    """Wait up to `wait_s` for `pids` to end; SIGKILL the survivors. True when none survived."""
    deadline = time.monotonic() + wait_s
    while True:
        _reap()
        left = [pid for pid in pids if procfs.is_alive(pid)]
        if not left:
            return True
        if time.monotonic() >= deadline:
            for pid in left:
                _signal(pid, signal.SIGKILL)
            _reap()
            return False
        time.sleep(0.02)


def _signal_group(sig: int) -> None:
    try:
        os.killpg(os.getpid(), sig)
    except (ProcessLookupError, PermissionError):
        pass


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
        self.host_gone = False
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

    def terminate(self, reason: str, delay_s: float = 0.0, host_gone: bool = False) -> bool:
        """Start shutting down (in a new thread); False when shutdown had already started.
        `host_gone`: nobody can receive a result any more, the steps need not wait for calls."""
        with self._lock:
            if self._started:
                return False
            self._started = True
            self.reason = reason
            self.host_gone = host_gone
        # The hard-exit thread starts before anything that could block or raise (logging to a full
        # or broken stderr, say): once shutdown has started, the process is certain to end.
        deadline = time.monotonic() + delay_s + self._grace_s
        threading.Thread(target=self._fallback, args=(deadline,), name="snakepit-hard-exit", daemon=True).start()
        threading.Thread(target=self._run, args=(delay_s, deadline), name="snakepit-shutdown", daemon=True).start()
        return True

    def _run(self, delay_s: float, deadline: float) -> None:
        if self.host_gone:
            # A tool burning CPU holds the GIL for up to the switch interval (5 ms) each time this
            # thread wants it back after a system call; the steps make hundreds of them (reading
            # /proc, stopping the server). Nobody needs the tools' results any more.
            sys.setswitchinterval(0.0001)
        # Logged here, not in terminate(): that runs in signal handlers too, which may interrupt
        # the main thread in the middle of writing a log record.
        log.info("worker shutting down: %s%s", self.reason, " (host gone: calls in flight are not waited for)"
                 if self.host_gone else "")
        if delay_s > 0:
            time.sleep(delay_s)
        for step in self._steps:
            try:
                step(max(deadline - time.monotonic(), 0.0))
            except Exception:  # one failing step must not block the others
                log.exception("shutdown step failed")
        try:
            kill_own_processes(term_wait_s=min(0.5, max(deadline - time.monotonic(), 0.05)), host_gone=self.host_gone)
        except Exception:
            log.exception("killing child processes failed")
        self.files_lock.acquire()
        _remove(self.files_to_remove)
        self.finished.set()
        log.info("worker exiting with code %d", self.exit_code)
        logging.shutdown()
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # the host (and the other end of stderr) is gone
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
            # Not through logging: its lock may be held by a thread stuck in a write. Non-blocking,
            # so that a full stderr pipe cannot hold the exit either (we exit right after).
            os.set_blocking(2, False)
            os.write(2, b"snakepit_bridge: graceful shutdown overran its grace period; exiting hard\n")
        except OSError:
            pass
        finally:
            os._exit(EXIT_HARD_FALLBACK)

    def install_signal_handlers(self, host_alive: Optional[Callable[[], bool]] = None) -> None:
        """SIGTERM and SIGINT take the same graceful path (main thread only). `host_alive` tells a
        host's stop request from a signal sent because the host died (the parent-death signal,
        the watchdog, the fork-server lifeline): then calls in flight are not waited for."""

        def handler(signum: int, frame: object) -> None:
            gone = host_alive is not None and not host_alive()
            self.terminate(f"signal {signal.Signals(signum).name}", host_gone=gone)

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def wait(self) -> None:
        """Block the main thread (interruptibly, so signal handlers run) until the process exits."""
        while True:
            self.finished.wait(0.5)
