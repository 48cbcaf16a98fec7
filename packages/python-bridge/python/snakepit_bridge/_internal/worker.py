"""The worker process: parse options, start lifelines, load the adapter, serve, report ready."""

from __future__ import annotations

import inspect
import logging
import os
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, List, Optional

import grpc

from . import gil_holding, handshake, lifelines, procfs
from .adapter import Adapter, LoadedAdapter, load_adapter
from .errors import error_info
from .event_loop import EventLoopThread
from ..gen import worker_pb2_grpc
from ..gen.constants import (
    ADAPTER_LOAD_FAILED,
    INVALID_OPTIONS,
    MAX_MESSAGE_BYTES,
    MAX_PIPELINE_DEPTH,
    SECRET_ENV,
    WORKER_START_FAILED,
)
from .host_client import HostClient
from .json_logging import install_logging
from .security import SecretInterceptor
from .frame_reader import frames_socket
from .frame_server import FrameServer
from .servicer import WorkerServicer
from .call_tracker import CallTracker
from .tool_call import ToolRunner
from .session import SessionStore
from .termination import EXIT_STARTUP_FAILED, SelfTerminator
from .worker_options import OptionsError, WorkerOptions, control_fd_from_argv, parse_options

log = logging.getLogger("snakepit_bridge.worker")


class StartupError(Exception):
    def __init__(self, code: str, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.code = code
        self.cause = cause


def _call_hook(hook: Optional[Callable[[], Any]], loop: EventLoopThread) -> None:
    if hook is None:
        return
    result = hook()
    if inspect.isawaitable(result):
        loop.run(result)


def _once(fn: Callable[[], None]) -> Callable[[], None]:
    lock = threading.Lock()
    done: List[bool] = []

    def run() -> None:
        with lock:
            if done:
                return
            done.append(True)
            fn()

    return run


def _bind(server: grpc.Server, address: str) -> str:
    if address.startswith("unix:"):
        path = address[len("unix:"):]
        if os.path.exists(path) and stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)  # a stale socket of a previous worker with this path
        old_umask = os.umask(0o177)  # the socket is never group/world accessible, even briefly
        try:
            server.add_insecure_port(address)
        finally:
            os.umask(old_umask)
        return address
    port = server.add_insecure_port(address)
    if not port:
        raise OSError(f"could not bind {address}")
    return f"{address.rpartition(':')[0]}:{port}"


class Worker:
    """One worker process's resources and their shutdown order."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.terminator = SelfTerminator(options.shutdown_grace_ms)
        self.loop = EventLoopThread()
        self.server: Optional[grpc.Server] = None
        self.servicer: Optional[WorkerServicer] = None
        self.frames: Optional[FrameServer] = None
        self.adapter: Optional[LoadedAdapter] = None
        self.host: Optional[HostClient] = None
        self.heartbeat: Optional[lifelines.HostHeartbeat] = None
        self.watchdog: Optional[subprocess.Popen[bytes]] = None
        self.socket_path: Optional[str] = None
        self.cleanup = _once(self._cleanup_adapter)
        self._host_was_parent = options.host_pid is not None and os.getppid() == options.host_pid
        self._host_start_time = procfs.start_time(options.host_pid) if options.host_pid else None
        self.terminator.add_step(self._stop_server)
        self.terminator.add_step(lambda _left: self.cleanup())
        self.terminator.add_step(self._release)

    def host_gone(self, reason: str) -> None:
        """What the lifelines that see the host die call (its sockets' EOF, the fork server's death
        with it, a signal once the host is seen dead): exit now, from the calling thread, without
        waiting for calls in flight (nobody can receive their results); the adapter's `cleanup()`
        runs, bounded (see `SelfTerminator.exit_host_gone`)."""
        hook = getattr(self.adapter.instance, "cleanup", None) if self.adapter is not None else None
        # `Adapter.cleanup` does nothing: no thread for it (starting one gives up the GIL).
        overridden = hook is not None and getattr(hook, "__func__", None) is not Adapter.cleanup
        self.terminator.exit_host_gone(reason, self.cleanup if overridden else None, self._kill_watchdog)

    def _host_forgot(self, reason: str) -> None:
        """The dependent heartbeat's verdict: the host stopped answering or forgot this worker. It
        may still be alive and reading, so the shutdown is the logged one, without waiting for
        calls in flight."""
        self.terminator.terminate(reason, host_gone=True)

    def _kill_watchdog(self) -> None:
        if self.watchdog is not None:
            self.watchdog.kill()  # it has nothing to clean up; not waited for

    def host_alive(self) -> bool:
        """False once the host is seen dead: no longer our parent (when it was), or not running
        (a host already in its exit path counts as dead)."""
        o = self.options
        if o.host_pid is None:
            return True
        if self._host_was_parent and os.getppid() != o.host_pid:
            return False
        return procfs.is_alive(o.host_pid, self._host_start_time, exiting_is_dead=True, read=gil_holding.read_file)

    # -- startup --------------------------------------------------------------------------------

    def start_early_lifelines(self) -> None:
        o = self.options
        gil_holding.libc()  # loaded now, not on the way out
        if o.control_fd is not None and o.pipe_lifeline:
            lifelines.start_pipe_lifeline(o.control_fd, self.host_gone)
        if o.parent_death_signal:
            lifelines.set_parent_death_signal(o.host_pid, self.host_gone)
        if o.watchdog:
            self.watchdog = lifelines.start_watchdog(o.host_pid or os.getppid(), o.watchdog_interval_ms,
                                                     o.shutdown_grace_ms)

    def load(self) -> None:
        try:
            self.adapter = load_adapter(self.options.adapter or "")
            _call_hook(getattr(self.adapter.instance, "setup", None), self.loop)
        except BaseException as error:  # includes SystemExit from a broken adapter
            raise StartupError(ADAPTER_LOAD_FAILED, error) from error

    def serve(self) -> str:
        o = self.options
        secret = os.environ.get(SECRET_ENV) or None
        session_store = None
        host_call = None
        if o.host_address:
            self.host = HostClient(o.host_address, o.worker_id, secret)
            session_store = SessionStore(self.host)
            host_call = self.host.call_host_tool
        assert self.adapter is not None
        if o.frames_fd is not None:
            return self._serve_frames(session_store, host_call)
        self.servicer = WorkerServicer(
            self.adapter, o.worker_id, o.concurrency, self.loop, session_store, host_call,
            on_shutdown=self._shutdown_requested, max_message_bytes=o.max_message_bytes,
        )
        try:
            self.server = grpc.server(
                ThreadPoolExecutor(max_workers=2 * o.concurrency + 4, thread_name_prefix="snakepit-rpc"),
                interceptors=[SecretInterceptor(secret)] if secret else [],
                options=[
                    ("grpc.max_send_message_length", max(o.max_message_bytes, MAX_MESSAGE_BYTES)),
                    ("grpc.max_receive_message_length", max(o.max_message_bytes, MAX_MESSAGE_BYTES)),
                    ("grpc.so_reuseport", 0),
                ],
            )
            worker_pb2_grpc.add_WorkerServiceServicer_to_server(self.servicer, self.server)
            # A lifeline may have fired during start-up: never create the socket file after the
            # shutdown thread has removed the files (it holds files_lock from then on).
            with self.terminator.files_lock:
                if self.terminator.started:
                    raise RuntimeError(f"shutting down before the server started: {self.terminator.reason}")
                address = _bind(self.server, o.listen)
                self.server.start()
                if address.startswith("unix:"):
                    self.socket_path = address[len("unix:"):]
                    os.chmod(self.socket_path, 0o600)
                    self.terminator.files_to_remove.append(self.socket_path)
        except Exception as error:
            raise StartupError(WORKER_START_FAILED, error) from error
        return address

    def _serve_frames(self, session_store: Optional[SessionStore], host_call: Optional[Callable[..., Any]]) -> str:
        """The frames transport: no server socket, just the inherited socketpair end."""
        o = self.options
        assert self.adapter is not None and o.frames_fd is not None
        try:
            # The host may hold a whole pipeline window on a process-profile worker (up to
            # MAX_PIPELINE_DEPTH calls), plus calls it cancelled that still run here.
            tracker = CallTracker(o.worker_id, o.concurrency,
                                  2 * max(o.concurrency, MAX_PIPELINE_DEPTH) + 2)
            runner = ToolRunner(self.adapter, o.worker_id, self.loop, session_store, host_call, tracker,
                                o.max_message_bytes)
            self.frames = FrameServer(frames_socket(o.frames_fd), runner, tracker, o.concurrency,
                                      o.max_message_bytes, on_shutdown=self._shutdown_requested,
                                      on_closed=self._frames_closed)
            if self.terminator.started:
                raise RuntimeError(f"shutting down before the server started: {self.terminator.reason}")
            self.frames.start()
        except Exception as error:
            raise StartupError(WORKER_START_FAILED, error) from error
        return f"frames:fd{o.frames_fd}"

    def _frames_closed(self, reason: str, eof: bool) -> None:
        # EOF on the frames socket is the host closing it or dying: like the pipe lifeline (and
        # off with it, so each orphan layer can be tested alone). A protocol error always ends
        # the worker: the host fails its calls and replaces it.
        if eof and not self.options.pipe_lifeline:
            log.warning("%s; serving nothing until the host's other lifelines end this worker", reason)
            return
        # EOF: nobody is left to read a result (the host closed the socket or died).
        if eof:
            self.host_gone(reason)
        else:
            self.terminator.terminate(reason)

    def start_host_heartbeat(self) -> None:
        o = self.options
        if self.host is not None and o.host_heartbeat_interval_ms > 0:
            self.heartbeat = lifelines.HostHeartbeat(
                self.host.heartbeat, o.host_heartbeat_interval_ms, o.host_heartbeat_timeout_ms,
                o.host_heartbeat_max_missed, self._host_forgot)
            self.heartbeat.start()

    # -- shutdown -------------------------------------------------------------------------------

    def _shutdown_requested(self) -> None:
        self.cleanup()
        # Exit shortly after the Shutdown reply has gone out.
        self.terminator.terminate("shutdown requested by host", delay_s=0.05)

    def _stop_server(self, seconds_left: float) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.frames is not None:
            # With the host gone nobody can receive a result: no settling time for cancelled tools.
            self.frames.drain(0, settle_s=0 if self.terminator.host_gone else 0.5)
            self.frames.stop()
        if self.server is None:
            return
        if self.terminator.host_gone:
            # Nobody can receive a result: cancel the calls in flight (cooperative tools stop) and
            # leave the server as it is, the process exits in a moment (stopping it costs CPU,
            # which a loaded machine hands out slowly).
            if self.servicer is not None:
                self.servicer.drain(0, settle_s=0)
            return
        grace = min(1.0, seconds_left / 3)
        if self.servicer is not None:
            self.servicer.drain(0)
        self.server.stop(grace).wait(grace + 0.5)

    def _cleanup_adapter(self) -> None:
        if self.adapter is not None:
            _call_hook(getattr(self.adapter.instance, "cleanup", None), self.loop)

    def _release(self, _seconds_left: float) -> None:
        self.loop.stop()
        if self.host is not None and not self.terminator.host_gone:
            self.host.close()
        if self.watchdog is not None:
            try:
                self.watchdog.terminate()
                self.watchdog.wait(0.5)
            except Exception:  # noqa: BLE001 - the watchdog may be gone already; shutdown goes on
                pass


def _fail(control_fd: Optional[int], code: str, error: BaseException) -> int:
    info = error_info(error)
    log.error("worker failed to start (%s): %s: %s", code, info["type"], info["message"])
    handshake.write_event(control_fd, handshake.error_event(code, info))
    return EXIT_STARTUP_FAILED


def main(argv: Optional[List[str]] = None, on_ready: Optional[Callable[[], None]] = None,
         options: Optional[WorkerOptions] = None, on_start: Optional[Callable[[Worker], None]] = None) -> int:
    """Runs a worker until it is told to stop. `on_start` runs once the `Worker` exists (before
    its lifelines start), `on_ready` once it serves, just before it reports ready, and `options`
    are `argv` already parsed (all three from the fork path)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if options is None:
            options = parse_options(argv)
    except OptionsError as error:
        control_fd = control_fd_from_argv(argv)
        install_logging(control_fd)
        return _fail(control_fd, INVALID_OPTIONS, error)
    if options.check:
        from .check import run_check

        return run_check(options.adapter)
    install_logging(options.control_fd)
    mismatch = handshake.protocol_mismatch()
    if mismatch is not None:
        log.error("worker failed to start: %s", mismatch["message"])
        handshake.write_event(options.control_fd, mismatch)
        return EXIT_STARTUP_FAILED
    worker = Worker(options)
    worker.terminator.install_signal_handlers(worker.host_alive, worker.host_gone)
    if on_start is not None:
        on_start(worker)
    worker.start_early_lifelines()
    try:
        worker.load()
        address = worker.serve()
    except StartupError as error:
        if worker.terminator.started:
            # A lifeline fired during start-up: the shutdown under way decides how we exit.
            worker.terminator.wait()
        if worker.server is not None:
            worker.server.stop(0)
        if worker.frames is not None:
            worker.frames.stop()
        if worker.watchdog is not None:
            worker.watchdog.terminate()
        return _fail(options.control_fd, error.code, error.cause)
    assert worker.adapter is not None
    if on_ready is not None:
        on_ready()
    handshake.write_event(options.control_fd, handshake.ready_event(address, len(worker.adapter.tools)))
    log.info("worker ready on %s with %d tools (pid %d)", address, len(worker.adapter.tools), os.getpid())
    worker.start_host_heartbeat()
    worker.terminator.wait()
    return 0  # not reached: the shutdown thread leaves with os._exit


if __name__ == "__main__":
    sys.exit(main())
