"""The public API is `snakepit_bridge.__all__`; adapters and examples use nothing else."""

import ast
import inspect
import types

import snakepit_bridge
from conftest import FIXTURES, PYTHON_DIR

ADAPTER_SOURCES = [*sorted(FIXTURES.glob("*.py")), *sorted((PYTHON_DIR.parents[2] / "apps" / "examples").rglob("*.py"))]


def test_all_names_exactly_the_public_names():
    public = {name for name, value in vars(snakepit_bridge).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert len(snakepit_bridge.__all__) == len(set(snakepit_bridge.__all__))
    assert public | {"__version__"} == set(snakepit_bridge.__all__)


def test_every_public_name_is_documented():
    for name in snakepit_bridge.__all__:
        value = getattr(snakepit_bridge, name)
        assert name == "__version__" or inspect.getdoc(value), f"{name} has no docstring"


def test_adapters_and_examples_import_only_the_public_api():
    private = []
    for path in ADAPTER_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("snakepit_bridge"):
                if node.module != "snakepit_bridge":
                    private.append(f"{path.name}: from {node.module} import ...")
                else:
                    private += [f"{path.name}: {a.name}" for a in node.names if a.name not in snakepit_bridge.__all__]
            elif isinstance(node, ast.Import):
                private += [f"{path.name}: import {a.name}" for a in node.names
                            if a.name.startswith("snakepit_bridge.")]
    assert ADAPTER_SOURCES, "found the adapters"
    assert not private, "\n".join(private)
