"""Each orphan layer alone ends the worker and its child processes when the host disappears."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest


from conftest import ECHO, FIXTURES, args, decode, gone, wait_until, worker_command, worker_env
from fake_host import FakeHost
from snakepit_bridge._internal import procfs
from snakepit_bridge.gen import worker_pb2


def _spawn_child(worker) -> int:
    child = worker.call("spawn_child")
    assert procfs.is_alive(child)
    return child


def test_pipe_lifeline_fires_while_a_tool_burns_cpu(workers):
    worker = workers.spawn(ECHO, "--no-parent-death-signal")
    child = _spawn_child(worker)
    busy = worker.stub.Execute.future(worker_pb2.ExecuteRequest(tool="cpu_burn", arguments=args(seconds=20)))
    assert wait_until(lambda: worker.stub.Heartbeat(worker_pb2.HeartbeatRequest(), timeout=5).in_flight == 1, 5)
    started = time.monotonic()
    worker.control.close()
    assert wait_until(lambda: gone(worker.pid, child), 5), "worker or child survived the host"
    assert time.monotonic() - started < 3
    assert worker.proc.wait(5) == 0
    assert not os.path.exists(worker.address[5:])
    busy.cancel()


@pytest.mark.parametrize("how", ["control fd closed", "SIGTERM while the host is dead"])
def test_when_the_host_is_gone_calls_in_flight_are_not_waited_for(workers, how):
    """A host stopping the worker gets a grace for its calls; a dead host gets none: nobody can
    receive the result. The tool (1.2 s, deaf to cancellation) finishes well within the graceful
    drain, so its marker tells which path ran."""
    marker = workers.dir / "finished"
    extra = ["--no-parent-death-signal", "--shutdown-grace-ms", "10000"]
    if how != "control fd closed":
        extra += ["--host-pid", "999999"]  # a host that is not running
    worker = workers.spawn(f"{FIXTURES / 'hostile_adapter.py'}:HostileAdapter", *extra)
    call = worker.stub.Execute.future(worker_pb2.ExecuteRequest(
        tool="sleep_then_mark", arguments=args(seconds=1.2, marker=str(marker))))
    assert wait_until(lambda: worker.stub.Heartbeat(worker_pb2.HeartbeatRequest(), timeout=5).in_flight == 1, 5)
    if how == "control fd closed":
        worker.control.close()
    else:
        os.kill(worker.pid, signal.SIGTERM)
    assert worker.proc.wait(10) == 0
    time.sleep(1.5)  # past the tool's own end, had it been let run
    assert not marker.exists(), "the worker waited for a call nobody could receive"
    call.cancel()


LIFECYCLE = f"{FIXTURES / 'lifecycle_adapter.py'}:LifecycleAdapter"


def test_a_worker_whose_host_dies_while_a_tool_sleeps_exits_without_waiting_for_it(workers):
    """`sleep_forever` ignores cancellation; the worker exits anyway, at once (the bound is a
    generous ceiling, not a target)."""
    worker = workers.spawn(ECHO, "--no-parent-death-signal", "--shutdown-grace-ms", "10000")
    call = worker.stub.Execute.future(worker_pb2.ExecuteRequest(tool="sleep_forever", arguments=args()))
    assert wait_until(lambda: worker.stub.Heartbeat(worker_pb2.HeartbeatRequest(), timeout=5).in_flight == 1, 5)
    started = time.monotonic()
    worker.control.close()
    assert worker.proc.wait(10) == 0
    assert time.monotonic() - started < 1.0
    assert not os.path.exists(worker.address[5:]), "the socket file outlived the worker"
    call.cancel()


def test_with_the_host_gone_a_slow_cleanup_is_cut_short_and_children_still_go(workers):
    """Cleanup runs when the host dies, for at most HOST_GONE_CLEANUP_S (not the shutdown grace:
    a graceful stop would wait 10 s here and exit 70)."""
    marker = workers.dir / "events"
    worker = workers.spawn(LIFECYCLE, "--no-parent-death-signal", "--shutdown-grace-ms", "10000",
                           env={"SNAKEPIT_TEST_MARKER": str(marker), "SNAKEPIT_TEST_CLEANUP_SECONDS": "30"})
    child = _spawn_child(worker)
    started = time.monotonic()
    worker.control.close()
    assert worker.proc.wait(10) == 0
    assert time.monotonic() - started < 3
    assert marker.read_text() == "setup\ncleanup\n", "cleanup() ran (and was cut short)"
    assert wait_until(lambda: gone(child), 3), "the worker's child outlived it"


def test_the_host_dying_during_a_graceful_stop_cuts_it_short(workers):
    """A stop request runs the graceful shutdown (here stuck in a 30 s cleanup, with a 10 s grace);
    the host dying meanwhile means nobody waits for it any more: the worker exits within the
    host-gone bounds, with its children, instead of at the end of the grace (exit 70)."""
    marker = workers.dir / "events"
    worker = workers.spawn(LIFECYCLE, "--no-parent-death-signal", "--shutdown-grace-ms", "10000",
                           env={"SNAKEPIT_TEST_MARKER": str(marker), "SNAKEPIT_TEST_CLEANUP_SECONDS": "30"})
    child = _spawn_child(worker)
    os.kill(worker.pid, signal.SIGTERM)  # the host (this test) is alive: a graceful stop begins
    assert wait_until(lambda: marker.read_text() == "setup\ncleanup\n", 5)
    started = time.monotonic()
    worker.control.close()  # then the host dies
    assert worker.proc.wait(10) == 0
    assert time.monotonic() - started < 3
    assert wait_until(lambda: gone(child), 3), "the worker's child outlived it"


def test_a_host_stop_request_still_drains_calls_in_flight(workers):
    marker = workers.dir / "finished"
    worker = workers.spawn(f"{FIXTURES / 'hostile_adapter.py'}:HostileAdapter", "--shutdown-grace-ms", "10000")
    call = worker.stub.Execute.future(worker_pb2.ExecuteRequest(
        tool="sleep_then_mark", arguments=args(seconds=0.3, marker=str(marker))))
    assert wait_until(lambda: worker.stub.Heartbeat(worker_pb2.HeartbeatRequest(), timeout=5).in_flight == 1, 5)
    os.kill(worker.pid, signal.SIGTERM)  # the host is alive (this test process): a stop request
    assert decode(call.result(timeout=10).result) == 0.3
    assert worker.proc.wait(10) == 0 and marker.exists()


def test_host_heartbeat_misses_end_the_worker(workers):
    host = FakeHost(f"unix:{workers.dir}/host.sock")
    try:
        worker = workers.spawn(ECHO, "--no-parent-death-signal", "--host-address", host.address,
                               "--host-heartbeat-interval-ms", "100", "--host-heartbeat-timeout-ms", "200",
                               "--host-heartbeat-max-missed", "2", control=False)
        child = _spawn_child(worker)
        assert wait_until(lambda: host.count("Heartbeat") >= 3, 5)
        assert procfs.is_alive(worker.pid), "a healthy host keeps the worker"
    finally:
        host.stop()
    assert wait_until(lambda: gone(worker.pid, child), 5)
    assert worker.proc.wait(5) == 0


def test_host_forgetting_the_worker_ends_it(workers):
    host = FakeHost(f"unix:{workers.dir}/host.sock")
    try:
        worker = workers.spawn(ECHO, "--no-parent-death-signal", "--host-address", host.address,
                               "--host-heartbeat-interval-ms", "100", control=False)
        host.known = False
        assert wait_until(lambda: gone(worker.pid), 5)
    finally:
        host.stop()


# A stand-in for the Node host: spawns the worker as a process-group leader from its main thread,
# prints the worker's pid, then waits to be SIGKILLed.
HOST_SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys, time
    argv = json.loads(sys.argv[1])
    argv += ["--host-pid", str(os.getpid())]
    proc = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    print(proc.pid, flush=True)
    time.sleep(300)
""")


def _run_under_host(workers, *flags):
    import json

    listen = f"unix:{workers.dir}/hosted.sock"
    argv = worker_command(ECHO, listen, *flags)
    host = subprocess.Popen([sys.executable, "-c", HOST_SCRIPT, json.dumps(argv)], env=worker_env(),
                            stdout=subprocess.PIPE, start_new_session=True)
    worker_pid = int(host.stdout.readline())
    import grpc
    from snakepit_bridge.gen import worker_pb2_grpc

    channel = grpc.insecure_channel(listen)
    grpc.channel_ready_future(channel).result(timeout=20)
    stub = worker_pb2_grpc.WorkerServiceStub(channel)
    response = stub.Execute(worker_pb2.ExecuteRequest(tool="spawn_child", arguments=args()), timeout=10)
    child = decode(response.result)
    channel.close()
    return host, worker_pid, child


def _kill_host_and_expect_cleanup(host, worker_pid, child, within: float):
    try:
        assert procfs.is_alive(worker_pid) and procfs.is_alive(child)
        host.kill()
        host.wait(5)
        host.stdout.close()
        assert wait_until(lambda: gone(worker_pid, child), within), "worker or child survived the host"
    finally:
        for pid in (worker_pid, child):
            if procfs.is_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_parent_death_signal_ends_the_worker(workers):
    host, worker_pid, child = _run_under_host(workers)
    _kill_host_and_expect_cleanup(host, worker_pid, child, within=5)


def _watchdogs(worker_pid: int):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            ours = b"snakepit_bridge._internal.watchdog" in cmd and str(worker_pid).encode() in cmd
            if ours and procfs.is_alive(int(entry)):
                found.append(int(entry))
    return found


def test_watchdog_alone_ends_the_worker(workers):
    host, worker_pid, child = _run_under_host(workers, "--no-parent-death-signal", "--watchdog")
    assert wait_until(lambda: _watchdogs(worker_pid), 5), "no watchdog process"
    watchdog = _watchdogs(worker_pid)[0]
    assert os.getpgid(watchdog) != worker_pid, "the watchdog must live outside the worker's group"
    _kill_host_and_expect_cleanup(host, worker_pid, child, within=6)
    assert wait_until(lambda: gone(watchdog), 3), "the watchdog outlived the worker's group"


def test_without_any_layer_the_worker_outlives_its_host(workers):
    """The control experiment: proves the tests above measure the layers, not something else."""
    host, worker_pid, child = _run_under_host(workers, "--no-parent-death-signal")
    try:
        host.kill()
        host.wait(5)
        host.stdout.close()
        time.sleep(1.0)
        assert procfs.is_alive(worker_pid)
    finally:
        os.killpg(worker_pid, signal.SIGKILL)
        assert wait_until(lambda: gone(worker_pid, child), 5)
