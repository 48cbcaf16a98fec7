"""The error and metadata contract shared with the host (proto/snakepit/bridge/v1/constants.json)."""

import ast
import json

import pytest

from conftest import PYTHON_DIR, args, wait_until
from snakepit_bridge import CallContext
from snakepit_bridge._internal.errors import BridgeError
from snakepit_bridge.gen import constants, worker_pb2

SOURCE = PYTHON_DIR.parents[2] / "proto" / "snakepit" / "bridge" / "v1" / "constants.json"
# Calls whose first argument is a code that goes on the wire, and the codes each may carry.
_CODE_TAKERS = {
    "BridgeError": constants.TOOL_ERROR_CODES,
    "StartupError": constants.STARTUP_ERROR_CODES,
    "error_event": constants.STARTUP_ERROR_CODES,
    "_fail": constants.STARTUP_ERROR_CODES,
}


def _codes_passed_in_package():
    """(file:line, callee, first argument) of every call that puts a code on the wire."""
    for path in sorted((PYTHON_DIR / "snakepit_bridge").rglob("*.py")):
        if "gen" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _CODE_TAKERS:
                yield f"{path.name}:{node.lineno}", name, node.args[0]


def test_the_generated_module_holds_the_source():
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    codes = source["errorCodes"]
    assert {c for c in codes["toolError"] if c != "$comment"} == constants.TOOL_ERROR_CODES
    assert {c for c in codes["startup"] if c != "$comment"} == constants.STARTUP_ERROR_CODES
    assert source["metadataKeys"]["correlationId"]["key"] == constants.CORRELATION_ID_METADATA
    assert source["environment"]["secret"]["name"] == constants.SECRET_ENV
    assert source["limits"]["maxMessageBytes"]["value"] == constants.MAX_MESSAGE_BYTES


def test_every_code_the_package_sends_is_in_the_contract():
    found = list(_codes_passed_in_package())
    assert {callee for _, callee, _ in found} == set(_CODE_TAKERS), "the scan finds every kind of call"
    stray = []
    for where, callee, arg in found:
        # An UPPER_CASE name must be a constant this call may send; a variable (`code`) only passes one on.
        named = isinstance(arg, ast.Name) and arg.id.isupper()
        if isinstance(arg, ast.Constant):
            stray.append(f"{where}: {callee}({arg.value!r}): spell codes through snakepit_bridge.gen.constants")
        elif named and getattr(constants, arg.id, None) not in _CODE_TAKERS[callee]:
            stray.append(f"{where}: {callee}({arg.id}) is not a code this call may send")
    assert not stray, "\n".join(stray)


@pytest.mark.parametrize(
    ("cancel_codes", "code", "reason"),
    [
        ((), constants.ABORTED, "the host cancelled it"),
        ((constants.ABORTED,), constants.ABORTED, "the host cancelled it"),
        ((constants.WORKER_STOPPED,), constants.WORKER_STOPPED, "the worker is shutting down"),
        ((constants.WORKER_STOPPED, constants.ABORTED), constants.WORKER_STOPPED, "shutting down"),
        ((constants.ABORTED, constants.WORKER_STOPPED), constants.ABORTED, "the host cancelled it"),
    ],
)
def test_a_cancelled_call_ends_with_the_first_cancellations_code(cancel_codes, code, reason):
    call = CallContext(call_id="c-1", tool="sleep")
    for cancel_code in cancel_codes:
        call.cancel(cancel_code)
    if not cancel_codes:
        call.cancel()
    with pytest.raises(BridgeError) as info:
        call.raise_if_cancelled()
    assert (info.value.code, info.value.type) == (code, "CancelledError")
    assert reason in info.value.message


def test_an_uncancelled_call_does_not_raise():
    CallContext().raise_if_cancelled()


def test_a_call_cut_short_by_the_workers_shutdown_fails_with_worker_stopped(workers):
    worker = workers.spawn()
    slow = worker.stub.Execute.future(worker_pb2.ExecuteRequest(tool="async_sleep", arguments=args(seconds=30)))
    assert wait_until(lambda: worker.stub.Heartbeat(worker_pb2.HeartbeatRequest(), timeout=5).in_flight == 1, 5)
    worker.stub.Shutdown(worker_pb2.ShutdownRequest(grace_ms=100), timeout=10)
    error = slow.result(timeout=10).error  # long before the tool's 30 s
    assert (error.code, error.type) == (constants.WORKER_STOPPED, "CancelledError")
    assert worker.proc.wait(10) == 0
