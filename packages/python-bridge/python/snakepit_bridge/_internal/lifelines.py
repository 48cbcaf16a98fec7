"""The ways a worker notices that its host is gone, each calling `terminate(reason)`.

1. pipe lifeline: EOF on the inherited control fd;
2. parent-death signal (Linux `PR_SET_PDEATHSIG`) plus a re-check of the parent pid;
3. dependent heartbeat to the host service;
4. an optional watchdog process that watches the host pid from outside the worker's group.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Callable, List, Optional

from . import procfs

log = logging.getLogger("snakepit_bridge.lifelines")

Terminate = Callable[[str], object]

_PR_SET_PDEATHSIG = 1


def start_pipe_lifeline(control_fd: int, terminate: Terminate) -> threading.Thread:
    """A daemon thread blocked in `os.read(control_fd)`; EOF or an error means the host died.

    The blocking read releases the GIL, so this fires even while a tool burns CPU.
    """

    def watch() -> None:
        reason = "control fd closed (host exited)"
        try:
            while os.read(control_fd, 4096):
                pass  # the host sends nothing today; bytes are ignored
        except OSError as error:
            reason = f"control fd failed ({error.strerror})"
        terminate(reason)

    thread = threading.Thread(target=watch, name="snakepit-pipe-lifeline", daemon=True)
    thread.start()
    return thread


@functools.lru_cache(maxsize=None)
def libc() -> ctypes.CDLL:
    """The C library, loaded once per process (`find_library` runs `ldconfig -p` in a subprocess;
    the fork server loads it before forking, so forked workers never do)."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def set_parent_death_signal(host_pid: Optional[int], terminate: Terminate) -> bool:
    """Ask Linux to send SIGTERM when the parent dies; False (silently) where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        if libc().prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
            return False
    except (OSError, AttributeError) as error:
        log.warning("parent-death signal unavailable: %s", error)
        return False
    # The parent may have died before prctl ran: then we were already re-parented.
    if host_pid is not None and os.getppid() != host_pid:
        terminate(f"host pid {host_pid} is not the parent any more (parent is {os.getppid()})")
    return True


def clear_parent_death_signal() -> None:
    """Undo `set_parent_death_signal`: the parent's death no longer signals this process."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc().prctl(_PR_SET_PDEATHSIG, 0, 0, 0, 0)
    except (OSError, AttributeError) as error:
        log.warning("could not clear the parent-death signal: %s", error)


class HostHeartbeat:
    """Beats the host service every `interval_ms`; terminates after `max_missed` misses in a row
    or when the host answers that it no longer knows this worker."""

    def __init__(self, beat: Callable[[int, float], bool], interval_ms: int, timeout_ms: int, max_missed: int,
                 terminate: Terminate) -> None:
        self._beat = beat
        self._interval_s = interval_ms / 1000
        self._timeout_s = max(timeout_ms, 1) / 1000
        self._max_missed = max(max_missed, 1)
        self._terminate = terminate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snakepit-host-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        sequence, missed = 0, 0
        while not self._stop.wait(self._interval_s):
            sequence += 1
            try:
                known = self._beat(sequence, self._timeout_s)
            except Exception as error:  # noqa: BLE001 - any failure is a missed beat
                missed += 1
                log.warning("host heartbeat %d missed (%d/%d): %s", sequence, missed, self._max_missed,
                            _describe(error))
                if missed >= self._max_missed:
                    self._terminate(f"host heartbeat missed {missed} times in a row")
                    return
                continue
            missed = 0
            if not known:
                self._terminate("host no longer knows this worker")
                return


def _describe(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return code().name if callable(code) else f"{type(error).__name__}: {error}"


def module_command(module: str) -> List[str]:
    """`python -m module` without the working directory on `sys.path` (where a planted `grpc.py`
    or `snakepit_bridge.py` would be imported first): `-P` on 3.11+, a `-c` bootstrap before."""
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", module]
    bootstrap = (f"import sys;sys.path[:1]==[''] and sys.path.pop(0);import runpy;"
                 f"runpy.run_module({module!r},run_name='__main__',alter_sys=True)")
    return [sys.executable, "-c", bootstrap]


def start_watchdog(host_pid: int, interval_ms: int, grace_ms: int) -> Optional[subprocess.Popen[bytes]]:
    """Spawn `python -m snakepit_bridge._internal.watchdog` in its own session, watching `host_pid`.

    Only when the worker leads its process group: the watchdog kills that whole group.
    """
    pgid = os.getpgid(0)
    if pgid != os.getpid():
        log.warning("watchdog disabled: the worker does not lead its own process group")
        return None
    args = [*module_command("snakepit_bridge._internal.watchdog"), "--host-pid", str(host_pid), "--target-pgid",
            str(pgid), "--interval-ms", str(interval_ms), "--grace-ms", str(grace_ms)]
    host_start = procfs.start_time(host_pid)
    if host_start is not None:
        args += ["--host-start-time", str(host_start)]
    return subprocess.Popen(args, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            close_fds=True)
