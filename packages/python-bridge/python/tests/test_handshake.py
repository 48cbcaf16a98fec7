"""Startup: the ready handshake, startup failures on the control fd, `--check`."""

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from conftest import ECHO, FIXTURES, PYTHON_DIR, read_line, worker_command, worker_env
from snakepit_bridge import __version__
from snakepit_bridge._internal.version import PROTOCOL_VERSION
from snakepit_bridge.gen import worker_pb2


def test_ready_line_names_address_pid_and_tools_and_socket_is_private(worker):
    described = worker.stub.DescribeTools(worker_pb2.DescribeToolsRequest(), timeout=5).tools
    assert worker.ready == {"event": "ready", "address": worker.address, "pid": worker.pid, "tools": len(described),
                            "protocol": PROTOCOL_VERSION, "bridge": __version__,
                            "bridge_path": str(PYTHON_DIR / "snakepit_bridge")}
    assert len(described) >= 20
    path = worker.address[len("unix:"):]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    pong = worker.stub.Ping(worker_pb2.PingRequest(message="hi"), timeout=5)
    assert (pong.message, pong.worker_id, pong.pid) == ("hi", "w-test", worker.pid)
    assert pong.server_time_ms > 0


def test_loopback_tcp_port_zero_reports_the_real_port(workers):
    worker = workers.spawn(listen="127.0.0.1:0")
    host, port = worker.address.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert worker.call("add", a=1, b=2) == 3


def _start_failure(tmp_dir, adapter, *extra, listen=None, env=None):
    parent, child = socket.socketpair()
    listen = listen or f"unix:{tmp_dir}/fail.sock"
    proc = subprocess.run(worker_command(adapter, listen, "--control-fd", str(child.fileno()), *extra),
                          pass_fds=[child.fileno()], env=worker_env(env), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30, check=False)
    child.close()
    event = read_line(parent, timeout=5)
    parent.close()
    assert proc.stdout == b"", "the handshake never uses stdout"
    return proc.returncode, event


@pytest.mark.parametrize(
    ("adapter", "extra", "listen", "code", "error_type", "message"),
    [
        (str(FIXTURES / "import_error_adapter.py"), [], None, "ADAPTER_LOAD_FAILED", "ModuleNotFoundError",
         "missing_dependency_for_snakepit_tests"),
        (f"{FIXTURES / 'setup_error_adapter.py'}:SetupErrorAdapter", [], None, "ADAPTER_LOAD_FAILED", "RuntimeError",
         "model file not found"),
        (f"{FIXTURES / 'echo_adapter.py'}:NoSuchClass", [], None, "ADAPTER_LOAD_FAILED",
         "snakepit_bridge._internal.adapter.AdapterLoadError", "NoSuchClass"),
        (ECHO, [], "0.0.0.0:0", "INVALID_OPTIONS", "snakepit_bridge._internal.worker_options.OptionsError", "loopback"),
        (ECHO, [], "10.1.2.3:5000", "INVALID_OPTIONS", "snakepit_bridge._internal.worker_options.OptionsError",
         "loopback"),
        (ECHO, ["--concurrency", "0"], None, "INVALID_OPTIONS", "snakepit_bridge._internal.worker_options.OptionsError",
         "--concurrency"),
        (ECHO, [], "unix:/nonexistent-dir-for-snakepit/w.sock", "WORKER_START_FAILED", None, ""),
    ],
)
def test_startup_failure_is_reported_on_the_control_fd(workers, adapter, extra, listen, code, error_type, message):
    returncode, event = _start_failure(workers.dir, adapter, *extra, listen=listen)
    assert returncode == 1
    assert event["event"] == "error" and event["code"] == code
    if error_type:
        assert event["type"] == error_type
    assert message in event["message"]
    assert "traceback" in event


def _check(*extra):
    proc = subprocess.run([sys.executable, "-m", "snakepit_bridge", "--check", *extra], env=worker_env(),
                          capture_output=True, timeout=30, check=False)
    return proc.returncode, json.loads(proc.stdout)


def test_check_reports_versions_and_tools():
    code, report = _check("--adapter", str(FIXTURES / "module_tools.py"))
    assert code == 0 and report["ok"] is True and report["error"] is None
    assert report["tools"] == ["greet", "upper"]
    assert report["python"] == ".".join(map(str, sys.version_info[:3]))
    assert report["grpcio"] and report["protobuf"] and report["bridge"] == "0.1.0"


def test_check_reports_an_adapter_that_fails_to_import():
    code, report = _check("--adapter", str(FIXTURES / "import_error_adapter.py"))
    assert code == 1 and report["ok"] is False
    assert report["error"]["type"] == "ModuleNotFoundError"
    assert "missing_dependency_for_snakepit_tests" in report["error"]["traceback"]


def test_importing_the_package_does_not_import_grpc():
    code = "import sys, snakepit_bridge; print('grpc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=worker_env(), capture_output=True, timeout=30, check=True)
    assert out.stdout.strip() == b"False"


def test_a_host_of_another_protocol_version_is_refused_at_the_handshake(workers):
    returncode, event = _start_failure(workers.dir, ECHO, env={"SNAKEPIT_PROTOCOL": str(PROTOCOL_VERSION + 1)})
    assert returncode == 1
    assert event["event"] == "error" and event["code"] == "PROTOCOL_VERSION_MISMATCH"
    assert event["protocol"] == PROTOCOL_VERSION and event["bridge"] == __version__
    host_says = f"the host's @snakepit/python-bridge speaks protocol {PROTOCOL_VERSION + 1}"
    assert f"speaks protocol {PROTOCOL_VERSION}, {host_says}" in event["message"]
