"""Pure functions: the payload codec, docstring parsing, adapter specs (no process needed)."""

import dataclasses
import json

import pytest

from snakepit_bridge._internal import codec
from snakepit_bridge._internal.docstrings import parse_docstring
from snakepit_bridge._internal.errors import BridgeError
from snakepit_bridge.gen import common_pb2


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Vector:
    def tolist(self):
        return [1, 2, 3]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Point(1, 2), {"x": 1, "y": 2}), ((1, 2), [1, 2]), ({3}, [3]), (Vector(), [1, 2, 3]), ("é", "é")],
)
def test_encode_json_friendly_values(value, expected):
    payload = codec.encode(value)
    assert payload.content_type == "application/json"
    assert json.loads(payload.data) == expected
    assert b" " not in codec.encode({"a": [1, 2]}).data, "compact separators"
    assert codec.encode("é").data == '"é"'.encode(), "ensure_ascii=False"


@pytest.mark.parametrize("value", [b"a", bytearray(b"a"), memoryview(b"a")])
def test_binary_values_are_octet_stream(value):
    assert codec.encode(value) == common_pb2.Payload(content_type="application/octet-stream", data=b"a")


def test_decode_arguments_merges_json_and_binary_and_rejects_non_objects():
    arguments = codec.encode_arguments({"n": 1, "blob": b"\x00"})
    assert dict(arguments.binary) == {"blob": b"\x00"}
    assert codec.decode_arguments(arguments) == {"n": 1, "blob": b"\x00"}
    assert codec.decode_arguments(common_pb2.Arguments()) == {}
    with pytest.raises(BridgeError) as info:
        codec.decode_arguments(common_pb2.Arguments(json=codec.encode([1])))
    assert info.value.code == "INVALID_ARGUMENTS"


def test_google_docstring():
    def f(a, b=1):
        """Do a thing
        over two lines.

        More text.

        Args:
            a (int): The a,
                continued.
            b: The b.

        Returns:
            Something.
        """

    assert parse_docstring(f) == ("Do a thing over two lines.", {"a": "The a, continued.", "b": "The b."})


@pytest.mark.parametrize(
    ("value", "where"),
    [(float("nan"), "nan at $"), ([1.0, float("inf")], "inf at $[1]"),
     ({"a": {"my key": [float("-inf")]}}, '-inf at $.a["my key"][0]'), (Point(1, float("nan")), "nan at $.y")],
)
def test_nan_and_infinity_are_refused_naming_the_tool_the_value_and_its_path(value, where):
    with pytest.raises(ValueError) as raised:
        codec.encode(value, "stats")
    assert "tool 'stats'" in str(raised.value) and where in str(raised.value)
