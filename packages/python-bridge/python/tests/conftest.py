"""Real workers over real gRPC: spawn `python -m snakepit_bridge`, and prove nothing leaks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import grpc
import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
FIXTURES = PYTHON_DIR.parent / "test" / "fixtures"
ECHO = f"{FIXTURES / 'echo_adapter.py'}:EchoAdapter"

sys.path.insert(0, str(PYTHON_DIR))

from snakepit_bridge._internal import procfs  # noqa: E402 - needs the sys.path entry above
from snakepit_bridge.gen import common_pb2, worker_pb2, worker_pb2_grpc  # noqa: E402 - needs the sys.path entry above


def worker_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("SNAKEPIT_SECRET", None)
    env.update(extra or {})
    return env


def worker_command(adapter: str, listen: str, *extra: str) -> List[str]:
    return [sys.executable, "-m", "snakepit_bridge", "--adapter", adapter, "--listen", listen,
            "--worker-id", "w-test", "--snakepit-run-id", "run-test", *extra]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def gone(*pids: int) -> bool:
    return not any(procfs.is_alive(pid) for pid in pids)


class ControlReader:
    """The host's end of a worker's control socket: the handshake events, then log records."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.records: List[dict] = []

    def _take_lines(self) -> List[dict]:
        *lines, self.buffer = self.buffer.split(b"\n")
        events = [json.loads(line) for line in lines if line]
        self.records += [e for e in events if e.get("event") == "log"]
        return [e for e in events if e.get("event") != "log"]

    def next_event(self, timeout: float = 20.0) -> dict:
        """The next handshake event (`ready` or `error`), keeping the log records before it; {} on EOF."""
        self.sock.settimeout(timeout)
        pending: List[dict] = []
        while not pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                return {}
            self.buffer += chunk
            pending = self._take_lines()
        return pending[0]

    def log_records(self) -> List[dict]:
        """Every log record received so far (reads what is waiting, without blocking)."""
        self.sock.setblocking(False)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buffer += chunk
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        self._take_lines()
        return list(self.records)


def read_line(sock: socket.socket, timeout: float = 20.0) -> dict:
    """The first handshake event on a control socket (log records before it are skipped)."""
    return ControlReader(sock).next_event(timeout)


def args(**kwargs) -> common_pb2.Arguments:
    binary = {k: v for k, v in kwargs.items() if isinstance(v, bytes)}
    plain = {k: v for k, v in kwargs.items() if not isinstance(v, bytes)}
    return common_pb2.Arguments(
        json=common_pb2.Payload(content_type="application/json", data=json.dumps(plain).encode()), binary=binary)


def decode(payload: common_pb2.Payload):
    if payload.content_type == "":
        return None
    if payload.content_type == "application/octet-stream":
        return payload.data
    return json.loads(payload.data)


@dataclass
class Worker:
    proc: subprocess.Popen
    control: Optional[socket.socket]
    address: str
    ready: dict
    stderr_path: Path
    channel: grpc.Channel
    stub: worker_pb2_grpc.WorkerServiceStub
    metadata: List = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def execute(self, tool: str, timeout: float = 20, metadata=None, context=None, **kwargs):
        request = worker_pb2.ExecuteRequest(tool=tool, arguments=args(**kwargs), context=context)
        return self.stub.Execute(request, timeout=timeout, metadata=(metadata or []) + self.metadata)

    def call(self, tool: str, **kwargs):
        response = self.execute(tool, **kwargs)
        assert response.WhichOneof("outcome") == "result", response.error
        return decode(response.result)

    def stream(self, tool: str, timeout: float = 20, **kwargs):
        request = worker_pb2.ExecuteStreamRequest(tool=tool, arguments=args(**kwargs))
        return self.stub.ExecuteStream(request, timeout=timeout, metadata=self.metadata)

    reader: Optional[ControlReader] = None

    def log_records(self) -> List[dict]:
        """The worker's log records, from its control socket."""
        assert self.reader is not None, "log records need a control socket"
        return self.reader.log_records()

    def output(self) -> str:
        """What the worker wrote to stderr (plain text)."""
        return self.stderr_path.read_text()


class WorkerFactory:
    """Starts workers in their own process group; `close()` proves they and their sockets are gone."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sp-", dir="/tmp"))  # short: sun_path is 108 bytes
        os.chmod(self.dir, 0o700)
        self.workers: List[Worker] = []
        self.count = 0

    def spawn(self, adapter: str = ECHO, *extra: str, control: bool = True, env=None, listen=None,
              wait_ready: bool = True) -> Worker:
        self.count += 1
        listen = listen or f"unix:{self.dir}/w{self.count}.sock"
        parent = child = None
        fds = []
        extra_args = list(extra)
        if control:
            parent, child = socket.socketpair()
            fds = [child.fileno()]
            extra_args += ["--control-fd", str(child.fileno())]
        stderr_path = self.dir / f"w{self.count}.log"
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen(worker_command(adapter, listen, *extra_args), pass_fds=fds, env=worker_env(env),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                    start_new_session=True)
        if child is not None:
            child.close()
        reader = ControlReader(parent) if parent is not None else None
        ready = reader.next_event() if (reader is not None and wait_ready) else {}
        address = ready.get("address", listen)
        channel = grpc.insecure_channel(address)
        worker = Worker(proc, parent, address, ready, stderr_path, channel,
                        worker_pb2_grpc.WorkerServiceStub(channel), reader=reader)
        self.workers.append(worker)
        if not control and wait_ready:
            grpc.channel_ready_future(channel).result(timeout=20)
        return worker

    def close(self) -> None:
        leaks = []
        for worker in self.workers:
            worker.channel.close()
            if worker.control is not None:
                worker.control.close()  # pipe lifeline: the worker exits by itself
            if worker.proc.poll() is None:
                try:
                    worker.proc.wait(timeout=8)
                except subprocess.TimeoutExpired:
                    leaks.append(f"worker {worker.pid} did not exit after its control fd closed")
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.proc.wait()
            members = procfs.group_members(worker.pid)
            if members:
                leaks.append(f"processes left in group {worker.pid}: {members}")
                os.killpg(worker.pid, signal.SIGKILL)
            socket_path = worker.address[5:] if worker.address.startswith("unix:") else None
            if socket_path is not None and os.path.exists(socket_path) and worker.proc.returncode in (0, 70):
                leaks.append(f"socket file left: {worker.address}")
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not leaks, leaks


@pytest.fixture
def workers():
    factory = WorkerFactory()
    yield factory
    factory.close()


@pytest.fixture
def worker(workers) -> Worker:
    return workers.spawn()
