"""The fork server alone, driven over a plain socketpair the way the Node host drives it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import ECHO, worker_env
from snakepit_bridge._internal import procfs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork server is Linux-only")


class Server:
    def __init__(self, adapter: str = ECHO, host_pid: int = 0) -> None:
        self.host, child_end = socket.socketpair()
        extra = ["--no-parent-death-signal"] if host_pid else []  # our pid is not that host's
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "snakepit_bridge._internal.forkserver", "--adapter", adapter,
             "--snakepit-run-id", "pyrun", "--host-pid", str(host_pid or os.getpid()),
             "--control-fd", str(child_end.fileno()), *extra],
            env=worker_env(), pass_fds=[child_end.fileno()], start_new_session=True)
        child_end.close()
        self.buffer = b""
        self.fds: list = []

    def read(self, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            self.host.settimeout(max(deadline - time.monotonic(), 0.01))
            data, fds, _flags, _addr = socket.recv_fds(self.host, 65536, 4)
            assert data, "fork server closed its channel"
            self.buffer += data
            self.fds += fds
        line, self.buffer = self.buffer.split(b"\n", 1)
        message = json.loads(line)
        return message.get("msg", message) if message.get("cmd") == "NODE_HANDLE" else message

    def send(self, message: dict) -> None:
        self.host.sendall((json.dumps(message) + "\n").encode())

    def close(self) -> None:
        self.host.close()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def fork(server: Server, worker_id: str, listen_dir: str) -> "tuple[int, int]":
    """Forks one worker; returns its pid and the host end of its control socket, once it is ready."""
    server.send({"op": "fork", "ref": 1, "worker_id": worker_id,
                 "args": ["--adapter", ECHO, "--listen", f"unix:{listen_dir}/{worker_id}.sock", "--worker-id",
                          worker_id, "--snakepit-run-id", "pyrun", "--host-pid", str(os.getpid())]})
    streams = [server.read()["stream"] for _ in range(3)]
    assert streams == ["control", "stdout", "stderr"]
    forked = server.read()
    assert forked["event"] == "forked" and forked["worker_id"] == worker_id
    control = server.fds[-3]
    ready = json.loads(os.read(control, 4096).split(b"\n")[0])
    assert ready["event"] == "ready" and ready["pid"] == forked["pid"]
    return forked["pid"], control


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    # Generous: under a loaded CI machine a graceful self-termination (stop the gRPC server, run
    # cleanup, take the process group) can take seconds; "gone at all" is what these tests check.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not procfs.is_alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_reports_ready_then_forks_a_worker_in_its_own_group_and_reports_its_exit(server: Server) -> None:
    assert server.read() == {"event": "ready", "pid": server.proc.pid}
    with tempfile.TemporaryDirectory() as d:
        pid, _control = fork(server, "w1", d)
        assert os.getpgid(pid) == pid
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        assert argv[argv.index(b"--snakepit-run-id") + 1] == b"pyrun"
        os.kill(pid, signal.SIGKILL)
        assert server.read() == {"event": "exited", "worker_id": "w1", "pid": pid, "code": None, "signal": "SIGKILL"}


def _autogroup(pid: int) -> "str | None":
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            return f.read().split()[0]
    except OSError:
        return None  # a kernel without CONFIG_SCHED_AUTOGROUP


def test_each_forked_worker_leads_its_own_session_before_the_server_reports_its_pid(server: Server) -> None:
    # Linux shares the CPU between sessions (autogroups) first: workers left in the fork server's
    # session all shared one share, and on a loaded machine took seconds to exit after the host
    # died. The host reads the group (and kills by it) as soon as it learns the pid.
    server.read()
    with tempfile.TemporaryDirectory() as d:
        batch = "".join(json.dumps({"op": "fork", "ref": i, "worker_id": f"w{i}", "args": [
            "--adapter", ECHO, "--listen", f"unix:{d}/w{i}.sock", "--worker-id", f"w{i}",
            "--snakepit-run-id", "pyrun", "--host-pid", str(os.getpid())]}) + "\n" for i in range(3))
        server.host.sendall(batch.encode())  # one batch: forked together, then let start
        pids = []
        while len(pids) < 3:
            message = server.read()
            if message["event"] != "forked":
                continue
            pid = message["pid"]
            pids.append(pid)
            assert (os.getsid(pid), os.getpgid(pid)) == (pid, pid)
        server_group = _autogroup(server.proc.pid)
        for pid in pids:
            assert server_group is None or _autogroup(pid) != server_group
            os.kill(pid, signal.SIGKILL)
        exits = {server.read()["pid"] for _ in pids}
        assert exits == set(pids)


def test_server_has_one_thread_and_never_a_grpc_object(server: Server) -> None:
    server.read()
    assert os.listdir(f"/proc/{server.proc.pid}/task") == [str(server.proc.pid)]


# How long a serving worker re-checks its host after the fork server died (fork_child), plus slack.
HOST_RECHECKS_S = 1.5


@pytest.mark.parametrize("how", ["channel closed", "SIGKILL"])
def test_a_serving_worker_outlives_its_server_while_the_host_lives_then_follows_the_host(
        server: Server, how: str) -> None:
    server.read()
    with tempfile.TemporaryDirectory() as d:
        pid, control = fork(server, "w1", d)
        if how == "SIGKILL":
            server.proc.kill()
        else:
            server.host.close()
        server.proc.wait(5)
        time.sleep(HOST_RECHECKS_S)
        assert procfs.is_alive(pid)
        os.close(control)  # the host's end of the worker's control socket: as if the host died
        server.fds.remove(control)
        assert wait_gone(pid)


@pytest.mark.parametrize("server_death", ["SIGKILL", "SIGTERM"])
def test_a_serving_worker_whose_host_is_gone_follows_the_server(server_death: str) -> None:
    """SIGTERM is the server's parent-death signal: its handler closes the server-alive pipe,
    then the server dies of the signal all the same."""
    host = subprocess.Popen(["sleep", "60"])
    s = Server(host_pid=host.pid)
    try:
        s.read()
        with tempfile.TemporaryDirectory() as d:
            pid, _control = fork(s, "w1", d)  # its control socket stays open: only the server's death tells
            host.kill()
            host.wait()
            started = time.monotonic()
            s.proc.send_signal(getattr(signal, server_death))
            assert s.proc.wait(5) == -getattr(signal, server_death)
            assert wait_gone(pid, timeout=HOST_RECHECKS_S + 5)
            # A generous bound: the host is seen gone at the first look, no graceful shutdown runs.
            assert time.monotonic() - started < 1.5
    finally:
        s.close()
        if host.poll() is None:
            host.kill()
            host.wait()


def test_a_failing_preload_is_reported_on_the_channel() -> None:
    s = Server(adapter="no_such_module_for_snakepit_tests")
    try:
        message = s.read()
        assert message["event"] == "error" and message["code"] == "ADAPTER_LOAD_FAILED"
        assert s.proc.wait(5) == 1
    finally:
        s.close()
