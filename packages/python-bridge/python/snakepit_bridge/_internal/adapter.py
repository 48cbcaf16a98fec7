"""The `Adapter` base class and loading an adapter from its `--adapter` spec."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Dict, Optional

from .tools import ToolDefinition, describe, is_tool


class Adapter:
    """Base class for adapters: one instance per worker process.

    Methods decorated with `@tool` become tools. `setup()` runs once before the worker reports
    ready and `cleanup()` once at shutdown; both may be `async def`.
    """

    def setup(self) -> Any:
        """Load models, open connections: runs once before the worker is ready."""

    def cleanup(self) -> Any:
        """Release resources: runs once when the worker shuts down."""


class AdapterLoadError(Exception):
    """The adapter spec is malformed or names something that does not exist."""


@dataclass
class LoadedAdapter:
    """The adapter instance (or module) and its tools, keyed by tool name."""

    spec: str
    target: Any
    tools: Dict[str, ToolDefinition]

    @property
    def instance(self) -> Optional[Adapter]:
        return self.target if not isinstance(self.target, ModuleType) else None


def _split_spec(spec: str) -> "tuple[str, Optional[str]]":
    head, sep, tail = spec.rpartition(":")
    # `C:\path` (a drive letter) is not a class separator.
    if sep and tail and tail.isidentifier() and not (len(head) == 1 and head.isalpha()):
        return head, tail
    return spec, None


# File adapters already executed in this process, by absolute path: the fork server imports the
# adapter before forking, and its workers reuse that module instead of running its body again.
_file_modules: Dict[str, ModuleType] = {}


def _import_file(path: str) -> ModuleType:
    path = os.path.abspath(path)
    if path in _file_modules:
        return _file_modules[path]
    if not os.path.isfile(path):
        raise AdapterLoadError(f"Adapter file {path!r} does not exist")
    name = os.path.splitext(os.path.basename(path))[0]
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # let the adapter import its sibling modules
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise AdapterLoadError(f"Cannot load adapter file {path!r}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _file_modules[path] = module
    return module


def _import(target: str) -> ModuleType:
    if target.endswith(".py") or os.sep in target or "/" in target:
        return _import_file(target)
    return importlib.import_module(target)


def _tools_of(obj: Any) -> Dict[str, ToolDefinition]:
    tools: Dict[str, ToolDefinition] = {}
    owner = type(obj) if not isinstance(obj, ModuleType) else None
    names = sorted(set(dir(owner)) if owner is not None else vars(obj).keys())
    for attr in names:
        raw = inspect.getattr_static(owner, attr, None) if owner is not None else getattr(obj, attr, None)
        raw = getattr(raw, "__func__", raw)  # staticmethod / classmethod
        if not is_tool(raw):
            continue
        definition = ToolDefinition.from_callable(getattr(obj, attr))
        if definition.name in tools:
            raise AdapterLoadError(f"Two tools are named {definition.name!r}")
        tools[definition.name] = definition
    return tools


def _single_adapter_class(module: ModuleType) -> Optional[type]:
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Adapter) and value is not Adapter
        and value.__module__ == module.__name__
    ]
    return classes[0] if len(classes) == 1 else None


def preload_adapter(spec: str) -> None:
    """The fork server's part of `load_adapter`: import the module and describe its tools, so that
    forked workers do neither; instantiates nothing. Import errors raise; any other problem is
    left for each worker's `load_adapter` to report."""
    target_name, class_name = _split_spec(spec)
    module = _import(target_name)
    try:
        if class_name is None:
            if _tools_of(module):
                return
            owner = _single_adapter_class(module)
        else:
            owner = getattr(module, class_name, None)
        if not isinstance(owner, type):
            return
        for attr in sorted(set(dir(owner))):
            raw = inspect.getattr_static(owner, attr, None)
            if isinstance(raw, (staticmethod, classmethod)):
                fn, bound = raw.__func__, isinstance(raw, classmethod)
            elif inspect.isfunction(raw):
                fn, bound = raw, True
            else:
                continue
            if is_tool(fn):
                describe(fn, bound)
    except Exception:  # noqa: BLE001 - the worker's own load reports it, with its error code
        return


def load_adapter(spec: str) -> LoadedAdapter:
    """Import `pkg.module[:Class]` or `path/file.py[:Class]` and collect its tools.

    Without a class, the module's `@tool` functions are the tools; a module with no tool functions
    but exactly one `Adapter` subclass uses that class.
    """
    target_name, class_name = _split_spec(spec)
    module = _import(target_name)
    if class_name is None:
        module_tools = _tools_of(module)
        adapter_class = None if module_tools else _single_adapter_class(module)
        if adapter_class is None:
            return LoadedAdapter(spec=spec, target=module, tools=module_tools)
    else:
        adapter_class = getattr(module, class_name, None)
        if not isinstance(adapter_class, type):
            raise AdapterLoadError(f"Module {module.__name__!r} has no class {class_name!r}")
    instance = adapter_class()
    return LoadedAdapter(spec=spec, target=instance, tools=_tools_of(instance))
