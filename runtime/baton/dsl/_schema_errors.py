"""Pydantic's validation errors, told the way an author reads a document.

Each error's location is replayed against the raw data, so a task list entry is named by its
task (``do[2].fetchUser.call``) rather than pydantic's ``do.2.task.<call http>.call``; union
tags (``<...>``) and other internal steps are dropped.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from baton.dsl import _paths, models
from baton.dsl.problems import Problem

__all__ = ["problems_from"]

#: Fields of the named-entry models whose key in the raw data is the entry's name.
_ENTRY_BODIES = frozenset({"task", "case", "extension"})


def _locate(raw: Any, loc: tuple[int | str, ...]) -> str:
    """The author's path for ``loc``, up to the first step not found in the data.

    A missing property's path is its parent's; an unknown property's path ends with it.
    """
    node, path = raw, ""
    for part in loc:
        if isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node, path = node[part], _paths.index(path, part)
        elif isinstance(node, dict) and isinstance(part, str) and part in node:
            node, path = node[part], _paths.key(path, part)
        elif isinstance(node, dict) and part in _ENTRY_BODIES and len(node) == 1:
            ((name, node),) = node.items()
            path = _paths.key(path, name)
        elif part == "[key]":
            continue
        else:
            break
    return path


@cache
def _vocabulary() -> tuple[str, ...]:
    """Every property name the DSL knows, for "did you mean" hints."""
    names: set[str] = set()
    for value in vars(models).values():
        if isinstance(value, type) and issubclass(value, BaseModel):
            names.update(field.alias or name for name, field in value.model_fields.items())
    return tuple(sorted(names - _ENTRY_BODIES - {"name"}))


def _suggestion(name: str) -> str:
    vocabulary = _vocabulary()
    others = [known for known in vocabulary if known != name]
    same_but_case = [known for known in others if known.lower() == name.lower()]
    hint = same_but_case or difflib.get_close_matches(name, others, n=1, cutoff=0.75)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def _kind(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _message(error: Any, missing: str | None) -> str:
    kind: str = error["type"]
    given = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"missing required property '{missing}'"
    if kind == "extra_forbidden":
        return f"unknown property '{missing}'" + _suggestion(str(missing or ""))
    if kind == "string_type":
        quote = (
            " (quote it in YAML)" if isinstance(given, int | float) and not isinstance(given, bool) else ""
        )
        return f"must be a string, not {_kind(given)}{quote}"
    simple = {
        "int_type": "must be a whole number",
        "bool_type": "must be true or false",
        "float_type": "must be a number",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "model_attributes_type": "must be a mapping",
        "list_type": "must be a list",
    }
    if kind in simple:
        return f"{simple[kind]}, not {_kind(given)}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        got = f", not {given!r}" if isinstance(given, str) and len(given) <= 40 else ""
        return f"must be one of: {expected.replace(' or ', ', ')}{got}"
    if kind == "too_short":
        count = ctx.get("min_length", 1)
        return "must not be empty" if count == 1 else f"must have at least {count} items"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}"
    message = str(error.get("msg", "is not valid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message[:1].lower() + message[1:]


def problems_from(exc: ValidationError, raw: Any, *, file: str | None) -> Iterator[Problem]:
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False, include_context=True, include_input=True):
        loc = tuple(error["loc"])
        path = _locate(raw, loc)
        message = _message(error, str(loc[-1]) if loc else None)
        if (path, message) not in seen:
            seen.add((path, message))
            yield Problem(path, message, file)
