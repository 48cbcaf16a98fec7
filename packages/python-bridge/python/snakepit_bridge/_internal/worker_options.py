"""The worker's command line, parsed and validated at the door."""

from __future__ import annotations

import argparse
import functools
import ipaddress
from dataclasses import dataclass
from typing import List, NoReturn, Optional

LOOPBACK_NAMES = ("localhost",)


class OptionsError(Exception):
    """A command-line option is missing or invalid (`INVALID_OPTIONS`)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise OptionsError(message)


@dataclass
class WorkerOptions:
    adapter: Optional[str]
    listen: str
    worker_id: str
    run_id: str
    control_fd: Optional[int]
    frames_fd: Optional[int]
    max_message_bytes: int
    pipe_lifeline: bool
    host_address: Optional[str]
    host_pid: Optional[int]
    concurrency: int
    parent_death_signal: bool
    host_heartbeat_interval_ms: int
    host_heartbeat_timeout_ms: int
    host_heartbeat_max_missed: int
    shutdown_grace_ms: int
    watchdog: bool
    watchdog_interval_ms: int
    check: bool


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m snakepit_bridge", description="Serve an adapter's tools to a Snakepit host.")
    p.add_argument("--adapter", help="pkg.module[:Class] or path/to/file.py[:Class]")
    p.add_argument("--listen", help="unix:/abs/path.sock or 127.0.0.1:PORT (0 = any free port)")
    p.add_argument("--worker-id", default="")
    p.add_argument("--snakepit-run-id", dest="run_id", default="")
    p.add_argument("--control-fd", type=int, default=None)
    # The frames transport: serve the WorkerService as frames on this inherited socket instead of
    # a gRPC server on `--listen` (see frame_server.py).
    p.add_argument("--frames-fd", type=int, default=None)
    p.add_argument("--max-message-bytes", type=int, default=100 * 1024 * 1024)
    # Orphan layer 1: exit on EOF of the control fd. Off only to test the other layers alone.
    p.add_argument("--pipe-lifeline", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--host-address", default=None)
    p.add_argument("--host-pid", type=int, default=None)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--parent-death-signal", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--host-heartbeat-interval-ms", type=int, default=2000)
    p.add_argument("--host-heartbeat-timeout-ms", type=int, default=2000)
    p.add_argument("--host-heartbeat-max-missed", type=int, default=3)
    p.add_argument("--shutdown-grace-ms", type=int, default=2000)
    p.add_argument("--watchdog", action="store_true", default=False)
    p.add_argument("--watchdog-interval-ms", type=int, default=500)
    p.add_argument("--check", action="store_true", default=False)
    return p


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise OptionsError(message)


def validate_listen(address: str) -> str:
    """Accept `unix:/abs/path` or a loopback `HOST:PORT`; refuse every other host."""
    if address.startswith("unix:"):
        path = address[len("unix:"):]
        if path.startswith("//"):
            path = path[2:]
        _require(path.startswith("/"), f"Expected `--listen` unix path to be absolute, got `{address}`")
        return "unix:" + path
    host, sep, port = address.rpartition(":")
    _require(bool(sep) and port.isdigit(), f"Expected `--listen` to be unix:/path or 127.0.0.1:PORT, got `{address}`")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        loopback = ipaddress.ip_address(bare).is_loopback
    except ValueError:
        loopback = bare in LOOPBACK_NAMES
    _require(loopback, f"Expected `--listen` host to be a loopback address (127.0.0.1), got `{host}`: "
                       "workers never listen on other interfaces")
    _require(0 <= int(port) <= 65535, f"Expected `--listen` port in 0..65535, got `{port}`")
    return address


@functools.lru_cache(maxsize=None)
def _shared_parser() -> argparse.ArgumentParser:
    # Built once per process (building costs milliseconds: a terminal-size lookup per option); the
    # fork server builds it before forking, so forked workers only parse.
    return build_parser()


def parse_options(argv: List[str]) -> WorkerOptions:
    ns = _shared_parser().parse_args(argv)
    if not ns.check:
        for flag, value in (("--adapter", ns.adapter), ("--worker-id", ns.worker_id),
                            ("--snakepit-run-id", ns.run_id)):
            _require(bool(value), f"Expected `{flag}` to be given")
        if ns.frames_fd is None:
            _require(bool(ns.listen), "Expected `--listen` (or `--frames-fd`) to be given")
            ns.listen = validate_listen(ns.listen)
        else:
            _require(ns.frames_fd >= 0, f"Expected `--frames-fd` to be a file descriptor, got `{ns.frames_fd}`")
            ns.listen = ns.listen or ""
    _require(ns.concurrency >= 1, f"Expected `--concurrency` to be a positive integer, got `{ns.concurrency}`")
    _require(ns.max_message_bytes >= 1,
             f"Expected `--max-message-bytes` to be a positive integer, got `{ns.max_message_bytes}`")
    _require(ns.shutdown_grace_ms >= 0, f"Expected `--shutdown-grace-ms` >= 0, got `{ns.shutdown_grace_ms}`")
    _require(ns.host_heartbeat_max_missed >= 1,
             f"Expected `--host-heartbeat-max-missed` >= 1, got `{ns.host_heartbeat_max_missed}`")
    return WorkerOptions(**vars(ns))


def control_fd_from_argv(argv: List[str]) -> Optional[int]:
    """The control fd, read leniently so that option errors can still be reported on it."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--control-fd" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--control-fd="):
            value = arg.split("=", 1)[1]
        if value is not None and value.isdigit():
            return int(value)
    return None
