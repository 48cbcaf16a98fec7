"""What a forked worker does between `fork()` and the normal worker main path.

Runs in the child only, in a process that was single-threaded at the fork (the fork server never
starts threads). It turns a copy of the fork server into a process that looks like a spawned
worker: own session and process group, fds 0-3 laid out as `spawnWorker` lays them out (stdin /dev/null,
stdout/stderr and the control socket passed to the host), signal handlers reset, per-worker
environment applied, its lifelines set, and then `worker.main(argv)`: adapter instantiation and
`setup()`, gRPC server creation, bind, handshake, serve.

The fork server's death: a worker still starting exits (its start fails; the host starts it
again from a new fork server). A worker already serving keeps serving if the host is alive: its
own lifelines to the host (control socket, dependent heartbeat, watchdog) still end it when the
host dies, so the pool keeps its workers when only the fork server crashed. When the host is
gone too (seen exiting: the host's death is what kills the fork server), the worker takes its
host-gone exit at once (`Worker.host_gone`), usually before the host's sockets even close.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from . import gil_holding, lifelines, procfs
from .worker_options import WorkerOptions

log = logging.getLogger("snakepit_bridge.fork_child")

CONTROL_FD = 3
FRAMES_FD = 4
# Signals the fork server handles or that a fresh interpreter would have at their default.
_RESET_SIGNALS = (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
EXIT_FORK_SERVER_GONE = 1
# After the fork server's death, how long to keep checking whether the host died too (a host
# death kills the fork server first; the host may take a moment to be seen dead).
_HOST_RECHECKS_S = (0.0, 0.05, 0.25, 1.0)


@dataclass(frozen=True)
class HostIdentity:
    """The host process, as the fork server saw it: pid and start time (so a reused pid is not it)."""

    pid: int
    start_time: Optional[int]

    def alive(self) -> bool:
        """Running and not yet in its exit path."""
        return procfs.is_alive(self.pid, self.start_time, exiting_is_dead=True, read=gil_holding.read_file)


@dataclass
class ChildFds:
    """Raw fds the child receives from the fork server (all other fds are closed)."""

    control: int
    stdout: int
    stderr: int
    server_alive: int  # read end of a pipe only the fork server writes: EOF = the fork server died
    frames: Optional[int] = None  # the frames transport's socket, laid out on fd 4


@dataclass
class ForkRequest:
    worker_id: str
    args: List[str]
    env: Dict[str, Optional[str]] = field(default_factory=dict)
    cwd: Optional[str] = None
    # `args` parsed by the fork server before the fork (None if they do not parse: the worker
    # then parses them itself and reports the error the usual way).
    options: Optional[WorkerOptions] = None


def _layout_fds(fds: ChildFds) -> int:
    """Put stdin, stdout, stderr, control (and frames) on 0-3 (4); close every other fd but the
    server-alive pipe."""
    top = CONTROL_FD if fds.frames is None else FRAMES_FD
    # The server-alive pipe may sit on 0-4 (the fork server's own control fd need not be 3):
    # move it above them first, or the layout below would overwrite it.
    alive = fcntl.fcntl(fds.server_alive, fcntl.F_DUPFD, top + 1)
    frames = None if fds.frames is None else fcntl.fcntl(fds.frames, fcntl.F_DUPFD, top + 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    # Targets 0-3 are never one of the other source fds: those were opened after fds 0-3 existed.
    os.dup2(devnull, 0)
    os.dup2(fds.stdout, 1)
    os.dup2(fds.stderr, 2)
    os.dup2(fds.control, CONTROL_FD)  # also closes this child's copy of the fork server's own channel
    if frames is not None:
        os.dup2(frames, FRAMES_FD)
        os.close(frames)
    os.closerange(top + 1, alive)
    os.closerange(alive + 1, _max_fd())
    os.set_inheritable(alive, False)
    return alive


def _max_fd() -> int:
    try:
        return max(int(name) for name in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        return os.sysconf("SC_OPEN_MAX")


def _seen_dead(host: HostIdentity, delays: "tuple[float, ...]") -> bool:
    """Whether the host is seen dead (or exiting) at one of the looks, `delays` apart."""
    for delay in delays:
        if delay:
            time.sleep(delay)
        if not host.alive():
            return True
    return False


def _watch_fork_server(alive_fd: int, serving: threading.Event, host: Optional[HostIdentity],
                       host_gone: "List[Callable[[str], None]]") -> None:
    """EOF on the server-alive pipe: the fork server died. With the host gone too, the worker's
    host-gone exit runs from this thread (`host_gone[0]`, there once the worker exists). A worker
    still starting whose host lives stops (SIGTERM to itself, a graceful shutdown; the host starts
    it again); a serving worker whose host lives keeps serving."""

    def watch() -> None:
        try:
            while os.read(alive_fd, 64):
                pass
        except OSError:
            pass
        # The host's death takes the fork server along (its parent-death signal), so the host is
        # usually seen exiting at the first look; a serving worker rechecks a live host a while.
        delays = _HOST_RECHECKS_S if serving.is_set() else _HOST_RECHECKS_S[:1]
        dead = host is not None and _seen_dead(host, delays)
        if dead and host_gone:
            assert host is not None
            host_gone[0](f"the fork server and host pid {host.pid} are gone")
            return
        os.close(alive_fd)
        if host is not None and not dead and serving.is_set():
            log.warning("the fork server exited; this worker keeps serving (host pid %d is alive)", host.pid)
            return
        os.kill(os.getpid(), signal.SIGTERM)  # the worker's handler shuts down

    threading.Thread(target=watch, name="snakepit-fork-server-lifeline", daemon=True).start()


def lead_new_session() -> None:
    """`setsid()`, first thing after the fork: the child leads a session and a process group of
    its own, as a spawned (detached) worker does. The session matters, not only the group: Linux
    shares the CPU fairly between sessions (autogroups) before processes, so workers left in the
    fork server's session would all share one process's CPU share, and on a loaded machine a
    shutdown after the host died (stopping CPU-bound calls' workers) took seconds instead of a
    few hundred milliseconds."""
    os.setsid()


def worker_argv(request: ForkRequest) -> "tuple[List[str], bool]":
    """The worker's argv (control fd forced to 3, its own PDEATHSIG handled here) and whether
    the parent-death signal is wanted."""
    args = list(request.args)
    wants_pdeathsig = "--no-parent-death-signal" not in args
    # argparse keeps the last value: these override whatever the host sent.
    return [*args, "--control-fd", str(CONTROL_FD), "--no-parent-death-signal"], wants_pdeathsig


def run_child(request: ForkRequest, fds: ChildFds, server_pid: int, host: Optional[HostIdentity] = None) -> int:
    """Everything after `fork()` in the child; returns the exit code (the caller `os._exit`s)."""
    gc.enable()  # the fork server runs without it (see forkserver.py)
    signal.set_wakeup_fd(-1)
    for sig in _RESET_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    alive = _layout_fds(fds)
    for name, value in request.env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if request.cwd:
        os.chdir(request.cwd)
    argv, wants_pdeathsig = worker_argv(request)
    if wants_pdeathsig:
        # Fires when the fork server (our parent) dies; re-checks getppid() against it.
        def gone(reason: str) -> None:
            sys.stderr.write(f"fork server gone before worker start: {reason}\n")
            os._exit(EXIT_FORK_SERVER_GONE)

        lifelines.set_parent_death_signal(server_pid, gone)
    serving = threading.Event()
    host_gone: List[Callable[[str], None]] = []
    _watch_fork_server(alive, serving, host, host_gone)

    def on_ready() -> None:
        # From now on the fork server's death alone does not stop this worker (see above).
        if wants_pdeathsig:
            lifelines.clear_parent_death_signal()
        serving.set()

    from .worker import Worker, main

    def on_start(worker: Worker) -> None:
        host_gone.append(worker.host_gone)

    return main(argv, on_ready=on_ready, options=request.options, on_start=on_start)
