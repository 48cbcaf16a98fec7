"""The `@tool` decorator and the tool definitions (signature, parameter specs) built from it."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple, TypeVar, Union, overload

from .codec import JSON
from .docstrings import parse_docstring
from ..gen.constants import INVALID_ARGUMENTS
from .errors import BridgeError
from ..gen import common_pb2, worker_pb2

_MARK = "__snakepit_tool__"


@dataclass(frozen=True)
class ToolOptions:
    name: Optional[str] = None
    description: Optional[str] = None


F = TypeVar("F", bound=Callable[..., Any])


@overload
def tool(fn: F) -> F: ...


@overload
def tool(*, name: Optional[str] = None, description: Optional[str] = None) -> Callable[[F], F]: ...


def tool(
    fn: Optional[F] = None, *, name: Optional[str] = None, description: Optional[str] = None
) -> Union[F, Callable[[F], F]]:
    """Mark a function or adapter method as a tool. Usable bare (`@tool`) or as `@tool(name=...)`.

    The tool's parameters, their types and descriptions are read from the signature and a
    Google-style docstring; generators become streaming tools, `async def` async tools.
    """

    def mark(target: F) -> F:
        setattr(target, _MARK, ToolOptions(name=name, description=description))
        return target

    return mark(fn) if fn is not None else mark


def is_tool(obj: object) -> bool:
    return callable(obj) and isinstance(getattr(obj, _MARK, None), ToolOptions)


def _annotation_text(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__qualname__ if annotation.__module__ == "builtins" else annotation.__name__
    return repr(annotation).replace("typing.", "")


def _default_payload(default: Any) -> Optional[common_pb2.Payload]:
    try:
        data = json.dumps(default, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
    return common_pb2.Payload(content_type=JSON, data=data.encode("utf-8"))


@dataclass
class ToolDefinition:
    """One callable tool, bound to its adapter instance when it is a method."""

    name: str
    fn: Callable[..., Any]
    description: str
    signature: inspect.Signature
    param_docs: Dict[str, str] = field(default_factory=dict)
    streaming: bool = False
    is_async: bool = False
    # What `arguments` needs to skip `Signature.bind` (the common case; see __post_init__).
    _by_keyword: bool = field(default=False, init=False, repr=False)
    _names: FrozenSet[str] = field(default=frozenset(), init=False, repr=False)
    _required: FrozenSet[str] = field(default=frozenset(), init=False, repr=False)
    _any_name: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        params = list(self.signature.parameters.values())
        named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        self._by_keyword = all(p.kind not in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL) for p in params)
        self._names = frozenset(p.name for p in named)
        self._required = frozenset(p.name for p in named if p.default is inspect.Parameter.empty)
        self._any_name = any(p.kind == p.VAR_KEYWORD for p in params)

    @classmethod
    def from_callable(cls, fn: Callable[..., Any]) -> "ToolDefinition":
        func = getattr(fn, "__func__", None)  # a bound method: its first parameter is bound
        d = describe(func if func is not None else fn, bound=func is not None)
        return cls(name=d.name, fn=fn, description=d.description, signature=d.signature,
                   param_docs=d.param_docs, streaming=d.streaming, is_async=d.is_async)

    def arguments(self, kwargs: Dict[str, Any]) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        """The call's `(args, kwargs)` for `fn`, checked against the signature (INVALID_ARGUMENTS if
        wrong). A signature whose parameters all take keywords is checked by name sets, without
        `Signature.bind` (which costs more than a small tool call); the rest go through `bind`."""
        if self._by_keyword:
            keys = kwargs.keys()
            if self._required <= keys and (self._any_name or keys <= self._names):
                return (), kwargs
        bound = self.bind(kwargs)
        return bound.args, bound.kwargs

    def bind(self, kwargs: Dict[str, Any]) -> inspect.BoundArguments:
        """Check the call's keyword arguments against the signature (INVALID_ARGUMENTS if wrong)."""
        try:
            return self.signature.bind(**kwargs)
        except TypeError as error:
            raise BridgeError(INVALID_ARGUMENTS, f"Invalid arguments for tool {self.name!r}: {error}") from None

    def parameters(self) -> List[worker_pb2.ParameterSpec]:
        specs = []
        for param in self.signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            spec = worker_pb2.ParameterSpec(
                name=param.name,
                type=_annotation_text(param.annotation),
                required=param.default is inspect.Parameter.empty,
                description=self.param_docs.get(param.name, ""),
            )
            if not spec.required:
                payload = _default_payload(param.default)
                if payload is not None:
                    spec.default_value.CopyFrom(payload)
            specs.append(spec)
        return specs

    def spec(self) -> worker_pb2.ToolSpec:
        return worker_pb2.ToolSpec(
            name=self.name,
            description=self.description,
            parameters=self.parameters(),
            streaming=self.streaming,
            is_async=self.is_async,
        )


@dataclass(frozen=True)
class _Description:
    name: str
    description: str
    signature: inspect.Signature
    param_docs: Dict[str, str]
    streaming: bool
    is_async: bool


# Tool descriptions by (function, bound): introspection (signature, docstring) costs about a
# millisecond per adapter, and the fork server does it once for all the workers it forks.
_descriptions: Dict["tuple[Callable[..., Any], bool]", _Description] = {}


def describe(fn: Callable[..., Any], bound: bool) -> _Description:
    """The description of tool function `fn`; `bound`: it is called as a method (first parameter bound)."""
    found = _descriptions.get((fn, bound))
    if found is None:
        options: ToolOptions = getattr(fn, _MARK)
        raw = inspect.unwrap(fn)
        summary, param_docs = parse_docstring(raw)
        signature = inspect.signature(fn)
        if bound:
            signature = signature.replace(parameters=list(signature.parameters.values())[1:])
        found = _Description(
            name=options.name or fn.__name__,
            description=options.description if options.description is not None else summary,
            signature=signature,
            param_docs=param_docs,
            streaming=inspect.isgeneratorfunction(raw) or inspect.isasyncgenfunction(raw),
            is_async=inspect.iscoroutinefunction(raw) or inspect.isasyncgenfunction(raw),
        )
        _descriptions[(fn, bound)] = found
    return found
