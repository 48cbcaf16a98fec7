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


def test_session_reads_are_cached_and_writes_go_through(hosted, host):
    assert decode(_call(hosted, "session_get", key="k").result) is None
    assert decode(_call(hosted, "session_get", key="k").result) is None
    assert host.count("GetSessionState") == 1, "a cached miss costs no second RPC"
    _call(hosted, "session_set", key="k", value={"n": 1})
    assert json.loads(host.state["s-1"]["k"].data) == {"n": 1}
    for _ in range(5):
        assert decode(_call(hosted, "session_get", key="k").result) == {"n": 1}
    assert host.count("GetSessionState") == 1, "writes update the cache"
    _call(hosted, "session_set", key="blob", value=None)
    assert host.state["s-1"]["blob"].content_type == ""


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
