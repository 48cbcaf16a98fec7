"""Graceful shutdown (signals, setup/cleanup hooks), the hard fallback, concurrency."""

import os
import signal
import time
from pathlib import Path

import pytest

from conftest import ECHO, FIXTURES, args, decode, gone, wait_until
from snakepit_bridge.gen import worker_pb2

LIFECYCLE = f"{FIXTURES / 'lifecycle_adapter.py'}:LifecycleAdapter"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_runs_cleanup_once_kills_children_and_exits_zero(workers, sig):
    marker = workers.dir / "events"
    worker = workers.spawn(LIFECYCLE, env={"SNAKEPIT_TEST_MARKER": str(marker)})
    assert marker.read_text() == "setup\n", "setup() runs once, before ready"
    child = worker.call("spawn_child")
    os.kill(worker.pid, sig)
    assert worker.proc.wait(10) == 0
    assert wait_until(lambda: gone(child), 3)
    assert marker.read_text() == "setup\ncleanup\n"
    assert not Path(worker.address[5:]).exists()


def test_slow_cleanup_hits_the_hard_fallback_exit_70(workers):
    worker = workers.spawn(LIFECYCLE, "--shutdown-grace-ms", "700", env={"SNAKEPIT_TEST_CLEANUP_SECONDS": "30"})
    child = worker.call("spawn_child")
    started = time.monotonic()
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.proc.wait(10) == 70
    assert time.monotonic() - started < 5
    assert wait_until(lambda: gone(child), 3), "the hard fallback takes the children too"
    assert not Path(worker.address[5:]).exists()


def test_unserialisable_result_is_a_type_error(workers):
    worker = workers.spawn(LIFECYCLE)
    error = worker.execute("unserialisable").error
    assert (error.type, error.code) == ("TypeError", "")
    assert "not JSON-serialisable" in error.message


def test_a_host_pid_that_is_not_the_parent_means_the_host_is_gone(workers):
    worker = workers.spawn(ECHO, "--host-pid", "999999", control=False, wait_ready=False)
    assert worker.proc.wait(15) == 0


def test_concurrency_runs_calls_in_parallel(workers):
    worker = workers.spawn(ECHO, "--concurrency", "3")
    started = time.monotonic()
    futures = [worker.stub.Execute.future(worker_pb2.ExecuteRequest(tool="sleep", arguments=args(seconds=0.5)))
               for _ in range(3)]
    assert [decode(f.result(timeout=10).result) for f in futures] == [0.5] * 3
    assert time.monotonic() - started < 1.4


def test_calls_are_refused_while_draining(workers):
    worker = workers.spawn()
    slow = worker.stub.Execute.future(worker_pb2.ExecuteRequest(tool="sleep", arguments=args(seconds=1)))
    assert wait_until(lambda: worker.stub.Heartbeat(worker_pb2.HeartbeatRequest(), timeout=5).in_flight == 1, 5)
    shutdown = worker.stub.Shutdown.future(worker_pb2.ShutdownRequest(grace_ms=3000))
    time.sleep(0.2)
    import grpc

    with pytest.raises(grpc.RpcError) as info:
        worker.execute("add", a=1, b=2, timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    shutdown.result(timeout=10)
    assert decode(slow.result(timeout=5).result) == 1
    assert worker.proc.wait(10) == 0
