"""Self-termination: graceful first (stop serving, cleanup, take the children along), hard after a grace.

Several lifelines may fire at once, so `terminate()` is idempotent: the first reason wins.

When the host is gone (its control socket or frames socket reached EOF, the fork server died
with it, or a signal arrived and the host is seen dead), `exit_host_gone()` runs instead, in the
thread that noticed: nobody can receive a result or read a log line any more, so it neither
stops the server nor waits for calls in flight (their results are dropped) nor logs. It runs the
adapter's `cleanup()` for at most `HOST_GONE_CLEANUP_S`, gives the worker's own child processes
`HOST_GONE_CHILDREN_S` to end after a SIGTERM (then SIGKILL), and `os._exit`s. It overtakes a
graceful shutdown already under way. It never gives up the GIL unless it must (a CPU-bound tool
would take it back, and on a loaded machine each return costs a turn of the scheduler): its
system calls keep the GIL (`gil_holding`), a thread starts only for an adapter that overrides
`cleanup()`, and children are looked for (and waited for) only when the worker has any.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from typing import Callable, List, Optional

from . import gil_holding, procfs

log = logging.getLogger("snakepit_bridge.termination")

EXIT_GRACEFUL = 0
EXIT_STARTUP_FAILED = 1
EXIT_HARD_FALLBACK = 70
# With the host gone: the longest the adapter's cleanup() may run, and the longest the worker's own
# child processes get between SIGTERM and SIGKILL (both also capped by the shutdown grace).
HOST_GONE_CLEANUP_S = 0.5
HOST_GONE_CHILDREN_S = 0.5


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
        # Taken, never released, by the thread that runs exit_host_gone(); never waited for, so a
        # signal handler nested in another (the host's threads die one by one, each sending a
        # parent-death signal) cannot deadlock on it.
        self._hurry = threading.Lock()
        self._parked = False  # the main thread waits in wait(): a signal handler may run a step inline
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
        # Not waited for: a signal handler may run this nested in another call in the main thread.
        if not self._lock.acquire(blocking=False):
            return False  # another thread is starting the shutdown right now
        try:
            if self._started:
                return False
            self._started = True
            self.reason = reason
            self.host_gone = host_gone
        finally:
            self._lock.release()
        # The hard-exit thread starts before anything that could block or raise (logging to a full
        # or broken stderr, say): once shutdown has started, the process is certain to end.
        deadline = time.monotonic() + delay_s + self._grace_s
        threading.Thread(target=self._fallback, args=(deadline,), name="snakepit-hard-exit", daemon=True).start()
        threading.Thread(target=self._run, args=(delay_s, deadline), name="snakepit-shutdown", daemon=True).start()
        return True

    def exit_host_gone(self, reason: str, cleanup: Optional[Callable[[], object]] = None,
                       before_exit: Optional[Callable[[], object]] = None) -> None:
        """The host is gone: exit now, from the calling thread (see the module's doc). `cleanup`
        (the adapter's, if it has one) runs in a thread of its own for at most
        `HOST_GONE_CLEANUP_S`; `before_exit` (quick, must not block) runs just before the children
        are stopped. Returns at once when another thread is already doing this; never returns
        otherwise."""
        if not self._hurry.acquire(blocking=False):
            return
        if not self._started:
            self.reason = reason
        self._started = True  # terminate() from now on does nothing
        self.host_gone = True
        cap = self._grace_s
        if cleanup is not None:
            runner = threading.Thread(target=_quietly, args=(cleanup,), name="snakepit-cleanup", daemon=True)
            runner.start()
            runner.join(min(HOST_GONE_CLEANUP_S, cap))
        if before_exit is not None:
            _quietly(before_exit)
        if gil_holding.has_children():
            _quietly(lambda: kill_own_processes(term_wait_s=min(HOST_GONE_CHILDREN_S, cap), host_gone=True))
        # A graceful shutdown that holds files_lock has removed the files itself; the main thread
        # holds it for a moment while it binds the socket. Here in the main thread (a signal
        # handler) it is not held: the handler runs inline only once the main thread is parked.
        if threading.current_thread() is threading.main_thread():
            taken = self.files_lock.acquire(blocking=False)
        else:
            taken = self.files_lock.acquire(timeout=0.1)
        if taken:
            for path in self.files_to_remove:
                gil_holding.unlink(path)
        os._exit(self.exit_code)

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

    def install_signal_handlers(self, host_alive: Optional[Callable[[], bool]] = None,
                                host_gone: Optional[Callable[[str], None]] = None) -> None:
        """SIGTERM and SIGINT take the same graceful path (main thread only). `host_alive` tells a
        host's stop request from a signal sent because the host died (the parent-death signal,
        the watchdog): then `host_gone(reason)` runs (see `exit_host_gone`), or, without one, a
        shutdown that does not wait for calls in flight."""

        def handler(signum: int, frame: object) -> None:
            if self._hurry.locked():
                return  # exiting already (this is, say, the SIGTERM it sent its own group)
            reason = f"signal {signal.Signals(signum).name}"
            gone = host_alive is not None and not host_alive()
            if gone and host_gone is not None:
                if self._parked:
                    host_gone(reason)  # the main thread only waits: nothing it holds is needed
                else:
                    # It may hold a lock the exit path takes (it is still starting, say).
                    threading.Thread(target=host_gone, args=(reason,), name="snakepit-host-gone", daemon=True).start()
                return
            self.terminate(reason, host_gone=gone)

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def wait(self) -> None:
        """Block the main thread (interruptibly, so signal handlers run) until the process exits."""
        self._parked = True
        while True:
            self.finished.wait(0.5)


def _quietly(step: Callable[[], object]) -> None:
    """Run one step of the host-gone exit; its failure must not stop the exit (nor be printed:
    nobody reads the worker's output any more)."""
    try:
        step()
    except BaseException:  # noqa: BLE001 - SystemExit from a cleanup() included: the exit goes on
        pass
