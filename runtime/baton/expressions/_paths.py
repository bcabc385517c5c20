"""Native evaluation of plain field paths (``.a.b[0]``, ``$input.x``, ``.``).

Most runtime expressions in real workflows are plain paths, and libjq costs several
microseconds per call mostly in moving data across the binding. Walking the path in Python
costs a fraction of that. The semantics follow jq exactly: indexing ``null`` gives ``null``,
a missing key gives ``null``, a negative index counts from the end, an index out of range
gives ``null``, and indexing any other type is an error with jq's own message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["compile_path", "parse_path", "walk"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_SEGMENT = re.compile(
    rf"""\s*(?:
        \.(?P<field>{_IDENT})                  # .name
      | \.?\[\s*(?P<index>-?\d+)\s*\]          # [0]  .[0]
      | \.?\[\s*(?P<key>"(?:[^"\\]|\\.)*")\s*\] # ["a b"]  .["a b"]
    )""",
    re.VERBOSE,
)
_ROOT = re.compile(rf"\s*(?:\$(?P<var>{_IDENT})|(?P<dot>\.))")
# jq keywords cannot be written as `.keyword` in every jq version; leave them to jq.
_KEYWORDS = frozenset(
    {"and", "or", "not", "if", "then", "elif", "else", "end", "as", "def", "reduce", "foreach"}
    | {"try", "catch", "label", "import", "include", "__loc__", "true", "false", "null"}
)
_BUILTIN_VARIABLES = frozenset({"ENV", "__loc__", "__prog_args"})

_Step = tuple[bool, Any]  # (is_index, key)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def walk(value: Any, steps: tuple[_Step, ...]) -> Any:
    for is_index, key in steps:
        if value is None:
            continue
        if is_index:
            if isinstance(value, list):
                size = len(value)
                if key < 0:
                    key += size
                value = value[key] if 0 <= key < size else None
                continue
            raise ValueError(f"Cannot index {_type_name(value)} with number ({key})")
        if isinstance(value, dict):
            value = value.get(key)
            continue
        raise ValueError(f"Cannot index {_type_name(value)} with string ({json.dumps(key)})")
    return value


def compile_path(text: str) -> tuple[str | None, Callable[[Any, Mapping[str, Any]], Any]] | None:
    """``(variable or None, evaluate)`` for a plain path, walked in Python because libjq costs
    10-25 times as much for it; ``None`` for anything else, which libjq must run.

    ``evaluate(data, variables)`` raises ``ValueError`` with jq's message where jq would fail,
    so callers cannot tell which of the two evaluated an expression.
    """
    if text.strip() == ".":
        return None, _identity
    parsed = parse_path(text, 0)
    if parsed is None:
        return None
    variable, frozen, pos = parsed
    if text[pos:].strip() or (variable is None and not frozen):
        return None

    if variable is None:
        if len(frozen) == 1 and not frozen[0][0]:
            return None, _single_field(frozen[0][1])

        def evaluate_data(data: Any, variables: Mapping[str, Any]) -> Any:
            return walk(data, frozen)

        return None, evaluate_data

    name = variable

    def evaluate_variable(data: Any, variables: Mapping[str, Any]) -> Any:
        return walk(variables.get(name), frozen)

    return name, evaluate_variable


def parse_path(text: str, pos: int) -> tuple[str | None, tuple[_Step, ...], int] | None:
    """The plain path starting at ``pos``: ``(variable or None, steps, end)``, or ``None`` when
    none starts there. A bare ``.`` is the identity (no steps)."""
    root = _ROOT.match(text, pos)
    if root is None:
        return None
    variable = root.group("var")
    if variable is not None and variable in _BUILTIN_VARIABLES:
        return None
    pos = root.end()
    steps: list[_Step] = []
    # A bare "." may be followed directly by a field name (".a") or a bracket (".[0]").
    if variable is None:
        pos -= 1
    while True:
        match = _SEGMENT.match(text, pos)
        if match is None:
            break
        if (field := match.group("field")) is not None:
            if field in _KEYWORDS:
                return None
            steps.append((False, field))
        elif (index := match.group("index")) is not None:
            steps.append((True, int(index)))
        else:
            steps.append((False, json.loads(match.group("key"))))
        pos = match.end()
    if variable is None and not steps:
        pos += 1  # past the "." itself
    return variable, tuple(steps), pos


def _identity(data: Any, variables: Mapping[str, Any]) -> Any:
    return data


def _single_field(key: str) -> Callable[[Any, Mapping[str, Any]], Any]:
    def evaluate(data: Any, variables: Mapping[str, Any]) -> Any:
        if isinstance(data, dict):
            return data.get(key)
        if data is None:
            return None
        raise ValueError(f"Cannot index {_type_name(data)} with string ({json.dumps(key)})")

    return evaluate
