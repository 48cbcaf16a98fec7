"""Python -> host calls: session state with a read cache, host tools, metadata on every call."""

import json

import pytest

from conftest import decode
from fake_host import FakeHost
from snakepit_bridge.gen import common_pb2


@pytest.fixture
def host(workers):
    host = FakeHost(f"unix:{workers.dir}/host.sock")
    yield host
    host.stop()


@pytest.fixture
def hosted(workers, host):
    return workers.spawn("%s" % __import__("conftest").ECHO, "--host-address", host.address,
                         "--host-heartbeat-interval-ms", "0", env={"SNAKEPIT_SECRET": "s3cret"})


def _call(worker, tool, session_id="s-1", correlation="corr-1", **kwargs):
    worker.metadata = [("x-snakepit-secret", "s3cret")]
    response = worker.execute(tool, context=common_pb2.CallContext(call_id="c", session_id=session_id),
                              metadata=[("x-snakepit-correlation-id", correlation)], **kwargs)
    return response


def test_session_reads_are_cached_by_version_and_writes_go_through(hosted, host):
    assert decode(_call(hosted, "session_get", key="k").result) is None
    assert decode(_call(hosted, "session_get", key="k").result) is None
    assert host.unchanged == 1, "a cached miss is revalidated by version, without values"
    _call(hosted, "session_set", key="k", value={"n": 1})
    assert json.loads(host.state["s-1"]["k"].data) == {"n": 1}
    for _ in range(5):
        assert decode(_call(hosted, "session_get", key="k").result) == {"n": 1}
    assert host.unchanged == 6, "a write updates the cache at the version it made"
    _call(hosted, "session_set", key="blob", value=None)
    assert host.state["s-1"]["blob"].content_type == ""


def test_a_cached_value_is_never_served_after_another_host_wrote(hosted, host):
    assert decode(_call(hosted, "session_get", key="k").result) is None
    host.write("s-1", "k", common_pb2.Payload(content_type="application/json", data=b"7"))
    assert decode(_call(hosted, "session_get", key="k").result) == 7
    host.write("s-1", "k", common_pb2.Payload(content_type="application/json", data=b"8"))
    assert decode(_call(hosted, "session_get", key="k").result) == 8


def test_a_write_after_a_stale_read_fails_with_session_conflict(hosted, host):
    assert decode(_call(hosted, "session_add", key="n", n=1).result) == 1
    payload = common_pb2.Payload(content_type="application/json", data=b"100")
    host.after_read = lambda: host.write("s-1", "n", payload)
    try:
        error = _call(hosted, "session_add", key="n", n=1).error
    finally:
        host.after_read = None
    assert error.code == "SESSION_CONFLICT"
    assert error.type == "snakepit_bridge.SessionError"
    assert json.loads(host.state["s-1"]["n"].data) == 100, "the other host's write was kept"
    assert decode(_call(hosted, "session_incr", key="n").result) == 101, "update reads again and wins"


def test_session_is_none_without_a_session_id(hosted):
    response = _call(hosted, "session_get", session_id="", key="k")
    assert response.error.type == "AttributeError"


def test_host_tool_result_and_error(hosted, host):
    response = _call(hosted, "call_host", name="double", args={"x": 21})
    assert decode(response.result) == {"value": 42, "session": "s-1"}
    error = _call(hosted, "call_host", name="missing", args={}).error
    assert error.type == "snakepit_bridge.HostToolError"
    assert "no host tool missing" in error.message
    assert json.loads(error.details.data) == {"tool": "missing"}


def test_every_host_call_carries_worker_id_correlation_id_and_secret(hosted, host):
    _call(hosted, "session_get", key="a", correlation="corr-9")
    _call(hosted, "call_host", name="double", args={"x": 1}, correlation="corr-10")
    metadata = [m for _, m in host.calls]
    assert all(m["x-snakepit-worker-id"] == "w-test" and m["x-snakepit-secret"] == "s3cret" for m in metadata)
    assert [m["x-snakepit-correlation-id"] for m in metadata] == ["corr-9", "corr-10"]
