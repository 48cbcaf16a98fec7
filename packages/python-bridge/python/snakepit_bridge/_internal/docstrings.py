"""Reads a Google-style docstring: the summary paragraph and the `Args:` section."""

from __future__ import annotations

import inspect
import re
from typing import Dict, List, Tuple

_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Return|Yields|Raises|Examples?|Notes?|Attributes):\s*$")
_ARG_SECTIONS = ("Args", "Arguments", "Parameters")
_ARG_LINE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(obj: object) -> Tuple[str, Dict[str, str]]:
    """Return (first paragraph joined on one line, {parameter: description})."""
    doc = inspect.getdoc(obj) or ""
    lines = doc.splitlines()
    summary: List[str] = []
    for line in lines:
        if not line.strip() or _SECTION.match(line.strip()):
            break
        summary.append(line.strip())
    params: Dict[str, str] = {}
    in_args = False
    base_indent = None
    current = None
    for line in lines:
        stripped = line.strip()
        match = _SECTION.match(stripped)
        if match and (len(line) - len(line.lstrip())) == 0:
            in_args = match.group(1) in _ARG_SECTIONS
            base_indent, current = None, None
            continue
        if not in_args or not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if base_indent is None:
            base_indent = indent
        arg = _ARG_LINE.match(stripped)
        if indent == base_indent and arg:
            current = arg.group(1)
            params[current] = arg.group(2).strip()
        elif indent > base_indent and current:
            params[current] = f"{params[current]} {stripped}".strip()
        elif indent < base_indent:
            in_args = False
    return " ".join(summary), params
