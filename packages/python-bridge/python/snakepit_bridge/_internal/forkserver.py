"""`python -m snakepit_bridge._internal.forkserver ...`: import everything once, fork ready-made workers.

The zygote pattern (Android, gunicorn `preload_app`, CPython's `forkserver`): this process
imports the bridge, grpcio, the adapter's module and any `--preload` modules, then forks a worker
per request. It never creates a gRPC server or channel and never starts a thread, so a fork
copies no live gRPC object and no held lock (grpc's fork guidance; GRPC_ENABLE_FORK_SUPPORT=0).

The adapter is imported here but instantiated, and its `setup()` run, only in each child after the
fork: setup opens connections, starts threads and event loops, and may create gRPC channels, none
of which survive a fork (threads vanish, locks may be held, sockets would be shared by every
worker). Only what module import creates is shared, copy-on-write.

Control protocol on `--control-fd` (a Node IPC channel, `stdio: [..., "ipc"]`, JSON lines):
  host → server  `{"op":"fork","ref":N,"worker_id":"w3","args":[...worker flags...],"env":{...},"cwd":...}`
  server → host  `{"event":"ready","pid":P}` once, or `{"event":"error","code":...}` and exit 1;
                 per fork, three (four with `--frames-fd`) Node `NODE_HANDLE` messages each carrying
                 one socket end (SCM_RIGHTS)
                 `{"event":"fd","ref":N,"stream":"control"|"stdout"|"stderr"|"frames"}`,
                 then `{"event":"forked","ref":N,"worker_id":...,"pid":...}`
                 or `{"event":"fork-failed","ref":N,"worker_id":...,"message":...}`;
                 `{"event":"exited","worker_id":...,"pid":...,"code":C|null,"signal":"SIGKILL"|null}`
                 when a child is reaped (a forked worker is not the host's child: this is how the
                 host learns its exit status).
  Lines whose `cmd` starts with `NODE_` are Node's own (`NODE_HANDLE_ACK`) and are ignored.

Orphan layers: the server exits on EOF of its control fd and has PDEATHSIG (SIGTERM, whose handler
closes the server-alive pipe before the process dies of it) on the host;
each child has its own control socket to the host (pipe lifeline), its dependent heartbeat, and a
pipe that reaches EOF when the server dies. So host death kills children directly and through
the server. Killing the server alone takes down the children still starting (PDEATHSIG SIGTERM
until they serve); children already serving check that the host is alive and keep serving.
"""

from __future__ import annotations

import os

# Before grpc is imported: this process forks deliberately and must never hold gRPC state.
os.environ["GRPC_ENABLE_FORK_SUPPORT"] = "0"
os.environ.setdefault("PYTHONUNBUFFERED", "1")
# Node's IPC channel variables describe *our* fd 3; children and their subprocesses must not see them.
for _name in ("NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE"):
    os.environ.pop(_name, None)

import gc  # noqa: E402 - after the environment and gc set-up above

# No collections while importing: freed objects would leave holes in shared memory pages that
# each child's first allocations then fill, copying those pages (CPython's `gc.freeze` advice).
# Every child re-enables the collector.
gc.disable()

import _socket  # noqa: E402 - after the environment and gc set-up above
import argparse  # noqa: E402 - after the environment and gc set-up above
import importlib  # noqa: E402 - after the environment and gc set-up above
import json  # noqa: E402 - after the environment and gc set-up above
import select  # noqa: E402 - after the environment and gc set-up above
import signal  # noqa: E402 - after the environment and gc set-up above
import socket  # noqa: E402 - after the environment and gc set-up above
import sys  # noqa: E402 - after the environment and gc set-up above
from typing import Any, Dict, List, Optional, Union  # noqa: E402 - after the environment and gc set-up above

from . import fork_child, handshake, procfs, worker_options  # noqa: E402 - after the environment and gc set-up above
from ..gen.constants import ADAPTER_LOAD_FAILED  # noqa: E402 - after the environment and gc set-up above
from .errors import error_info  # noqa: E402 - after the environment and gc set-up above

_LAZY_GRPC_MODULES = ("grpc._server", "grpc._channel", "grpc._interceptor", "grpc._utilities")
EXIT_HOST_GONE = 0
EXIT_PRELOAD_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m snakepit_bridge._internal.forkserver")
    p.add_argument("--adapter", required=True)
    # The registry marker: every forked child inherits this command line.
    p.add_argument("--snakepit-run-id", dest="run_id", required=True)
    p.add_argument("--host-pid", type=int, required=True)
    p.add_argument("--control-fd", type=int, required=True)
    p.add_argument("--preload", default="", help="comma-separated modules to import once")
    p.add_argument("--parent-death-signal", action=argparse.BooleanOptionalAction, default=True)
    return p


def preload(adapter_spec: str, modules: List[str]) -> None:
    """Import grpc, the worker path, the adapter module (not its class) and `modules`."""
    import grpc  # noqa: F401 - imported for its side effect: loaded once, before forking

    from . import worker  # noqa: F401 - imported for its side effect: the worker's modules load before forking
    from .adapter import preload_adapter

    # grpc imports these on first use (`grpc.server()`, the host client's channel): once here,
    # not once per worker.
    for name in _LAZY_GRPC_MODULES:
        importlib.import_module(name)
    # Build the worker's option parser and warm argparse (regex and gettext caches): parses,
    # creates nothing. Load libc for the children's prctl calls and their host-gone exit path.
    worker_options.parse_options(["--adapter", adapter_spec, "--listen", "unix:/x", "--worker-id", "w",
                          "--snakepit-run-id", "r"])
    if sys.platform.startswith("linux"):
        from . import gil_holding
        from .lifelines import libc

        libc()
        gil_holding.libc()

    preload_adapter(adapter_spec)
    for name in modules:
        importlib.import_module(name)


class ForkServer:
    def __init__(self, control_fd: int, run_id: str, host: Optional[fork_child.HostIdentity] = None) -> None:
        self.control = socket.socket(fileno=control_fd)
        self.run_id = run_id
        self.host = host
        self.children: Dict[int, str] = {}
        self.buffer = b""
        # Written by nobody, held open by this process only: children read EOF when it dies.
        self.alive_r, self.alive_w = os.pipe()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        # The start gate of the batch being forked (see `open_gate`): (read end, write end).
        self.gate: Optional["tuple[int, int]"] = None
        # The batch's children not yet reported `forked`: (read end of the child's session pipe, message).
        self.unreported: List["tuple[int, Dict[str, Any]]"] = []
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)

    def send(self, message: Dict[str, Any], fd: Optional[int] = None) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        if fd is None:
            self.control.sendall(data)
            return
        envelope = {"cmd": "NODE_HANDLE", "type": "net.Socket", "msg": message}
        data = (json.dumps(envelope, separators=(",", ":")) + "\n").encode()
        sent = socket.send_fds(self.control, [data], [fd])
        if sent < len(data):
            self.control.sendall(data[sent:])

    def serve(self) -> int:
        while True:
            watched: List[Union[socket.socket, int]] = [self.control, self.wake_r]
            readable, _, _ = select.select(watched, [], [])
            if self.wake_r in readable:
                os.read(self.wake_r, 4096)
            self.reap()
            if self.control in readable:
                chunk = self.control.recv(65536)
                if not chunk:
                    return EXIT_HOST_GONE  # the host died or closed us: children follow
                self.buffer += chunk
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    self.handle(line)
                self.report_forked()
                self.open_gate()

    def handle(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict) or str(message.get("cmd", "")).startswith("NODE_"):
            return
        if message.get("op") == "fork":
            self.fork(message)

    def open_gate(self) -> None:
        """Lets the children of the batch just forked start. The fork requests that arrived together
        are forked first, and only then do their children start up: a child starting up competes
        for the CPU with this loop, which would then fork the rest of the batch ever more slowly
        (on 2 cores, 100 workers: the loop forks them all in ~0.3 s gated, ~0.8 s ungated, and all
        are ready a little sooner and more steadily, median ~0.84 s vs ~0.87 s). A lone request
        (a replacement) is a batch of one: its child waits for nothing."""
        if self.gate is not None:
            for fd in self.gate:
                os.close(fd)
            self.gate = None

    def fork(self, message: Dict[str, Any]) -> None:
        ref = message.get("ref")
        if self.gate is None:
            self.gate = os.pipe()
        request = fork_child.ForkRequest(
            worker_id=str(message.get("worker_id", "")),
            args=[str(a) for a in message.get("args", [])],
            env={str(k): (None if v is None else str(v)) for k, v in (message.get("env") or {}).items()},
            cwd=message.get("cwd") or None,
        )
        try:
            # Parsed here, once, rather than in the child (where it would copy the parser's pages).
            request.options = worker_options.parse_options(fork_child.worker_argv(request)[0])
        except BaseException:  # noqa: BLE001 - OptionsError, or argparse's exit: the child reports it
            request.options = None
        # control, stdout, stderr (and the frames socket when the worker serves frames);
        # `_socket` objects, not `socket.socket` (whose constructor asks the kernel for each
        # socket's family again).
        streams = ("control", "stdout", "stderr", "frames") if "--frames-fd" in request.args else \
            ("control", "stdout", "stderr")
        pairs = [_socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in streams]
        host_ends = [a.detach() for a, _ in pairs]
        child_ends = [b.detach() for _, b in pairs]
        # Only the child holds the write end: EOF once it leads its own session (or died).
        session_r, session_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as error:
            for fd in [*host_ends, *child_ends, session_r, session_w]:
                os.close(fd)
            self.send({"event": "fork-failed", "ref": ref, "worker_id": request.worker_id,
                       "message": f"fork failed: {error}"})
            return
        if pid == 0:
            self._become_child(request, child_ends, session_w)
        for fd in [*child_ends, session_w]:
            os.close(fd)
        self.children[pid] = request.worker_id
        for stream, fd in zip(streams, host_ends):
            self.send({"event": "fd", "ref": ref, "stream": stream}, fd)
            os.close(fd)
        self.unreported.append((session_r, {"event": "forked", "ref": ref, "worker_id": request.worker_id,
                                            "pid": pid}))

    def report_forked(self) -> None:
        """Sends `forked` for the batch just forked, each once its child leads its own session, so
        the host never sees a pid whose process group is not yet its own (it reads the group at
        once, and kills by group). The children start their `setsid()` while later ones are still
        being forked: the batch costs one wait, not one per child."""
        for session_r, message in self.unreported:
            while os.read(session_r, 64):  # EOF: the child called setsid() (or died)
                pass
            os.close(session_r)
            self.send(message)
        self.unreported = []

    def _become_child(self, request: fork_child.ForkRequest, child_ends: List[int], session_w: int) -> None:
        code = 1
        try:
            try:
                fork_child.lead_new_session()
            finally:
                os.close(session_w)  # tells the server (see `report_forked`)
            self.control.detach()  # the fd number is reused for the child's own control socket
            assert self.gate is not None
            gate_r, gate_w = self.gate
            os.close(gate_w)
            while os.read(gate_r, 64):  # EOF: the server has forked the whole batch (or died)
                pass
            os.close(gate_r)
            fds = fork_child.ChildFds(control=child_ends[0], stdout=child_ends[1], stderr=child_ends[2],
                                      server_alive=self.alive_r,
                                      frames=child_ends[3] if len(child_ends) > 3 else None)
            code = fork_child.run_child(request, fds, server_pid=os.getppid(), host=self.host)
        except SystemExit as error:
            code = error.code if isinstance(error.code, int) else 1
        except BaseException:  # noqa: BLE001 - the child prints any failure and still ends in os._exit
            import traceback

            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker_id = self.children.pop(pid, None)
            if worker_id is None:
                continue
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
            sig = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else None
            self.send({"event": "exited", "worker_id": worker_id, "pid": pid, "code": code, "signal": sig})


# The write end of the server-alive pipe once the server exists (see `_die_with_the_host`).
_alive_w: List[int] = []


def _die_with_the_host(signum: int, frame: object) -> None:
    """The parent-death signal (SIGTERM) handler: close the server-alive pipe first, so serving
    children see EOF now rather than once the kernel has freed this process's memory (tens of
    milliseconds on a loaded machine), then die of the signal as before."""
    for fd in _alive_w:
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def main(argv: Optional[List[str]] = None) -> int:
    options = build_parser().parse_args(argv)
    if options.parent_death_signal:
        # The server has nothing to clean up; its children notice through their own layers.
        signal.signal(signal.SIGTERM, _die_with_the_host)
        _set_parent_death_signal(signal.SIGTERM)
        if os.getppid() != options.host_pid:  # the host died before prctl ran
            return EXIT_HOST_GONE
    try:
        preload(options.adapter, [m for m in options.preload.split(",") if m])
    except BaseException as error:  # noqa: BLE001 - SystemExit from a broken module included
        handshake.write_event(options.control_fd, handshake.error_event(ADAPTER_LOAD_FAILED,
                                                                        error_info(error)))
        return EXIT_PRELOAD_FAILED
    host = fork_child.HostIdentity(options.host_pid, procfs.start_time(options.host_pid))
    server = ForkServer(options.control_fd, options.run_id, host)
    _alive_w.append(server.alive_w)
    # Objects alive now are shared by every child; keep the collector from touching (and so
    # copying) their pages in the children.
    gc.freeze()
    server.send({"event": "ready", "pid": os.getpid()})
    return server.serve()


def _set_parent_death_signal(sig: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    from .lifelines import libc

    libc().prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG


if __name__ == "__main__":
    sys.exit(main())
