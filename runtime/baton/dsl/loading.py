"""Phase 1: read a document (YAML or JSON, bytes, text or a file) into plain data, under bounds.

Every way a file can be unreadable becomes a ``Problem``: too big, not UTF-8, not YAML,
nested too deep, an alias bomb, not a mapping. Nothing here raises anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baton.dsl._yaml import ReadError, read_yaml
from baton.dsl.problems import DocumentError, Problem
from baton.json_text import JsonTextError, finite_float, refuse_constant

__all__ = ["LoadLimits", "read_document", "read_documents", "read_source"]


@dataclass(frozen=True, slots=True)
class LoadLimits:
    """Bounds on what a document may cost to read; exceeding one is a problem, not a crash."""

    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 128
    #: Values (scalars, lists, mappings) after YAML aliases are expanded.
    max_nodes: int = 1_000_000
    #: Characters in one runtime expression, and in all of a document's together. libjq's
    #: compile time grows faster than linearly with a program's size (16 KB of ``.a + .a``
    #: takes most of a second) and it crashes the process on a few hundred KB, so whatever
    #: compiles expressions (this validator, the engine) must only see documents within these.
    max_expression_length: int = 8 * 1024
    max_expressions_length: int = 256 * 1024


DEFAULT_LIMITS = LoadLimits()


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def read_source(source: str | bytes | Path, *, origin: str, limits: LoadLimits) -> str:
    """The text of a document: a path is read (at most ``max_bytes`` + 1), bytes are decoded."""
    if isinstance(source, Path):
        try:
            with source.open("rb") as stream:
                data = stream.read(limits.max_bytes + 1)
        except IsADirectoryError:
            raise DocumentError([Problem("", "is a folder, not a file", origin)]) from None
        except OSError as exc:
            raise DocumentError([Problem("", f"cannot read: {exc.strerror or exc}", origin)]) from None
        source = data
    if len(source) > limits.max_bytes:
        raise DocumentError(
            [Problem("", f"is larger than the {_human(limits.max_bytes)} a document may be", origin)]
        )
    if isinstance(source, bytes):
        if source.startswith(b"\xef\xbb\xbf"):
            source = source[3:]
        try:
            return source.decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = source[exc.start]
            raise DocumentError(
                [Problem("", f"is not UTF-8 text (byte 0x{byte:02x} at offset {exc.start})", origin)]
            ) from None
    return source.removeprefix("\ufeff")


def _measure(data: Any, *, limits: LoadLimits) -> str | None:
    """Why JSON-parsed data breaks the bounds the YAML reader enforces while reading, if it does."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            return f"the document has more than {limits.max_nodes:,} values"
        if isinstance(value, dict | list):
            if depth > limits.max_depth:
                return f"the document is nested deeper than {limits.max_depth} levels"
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return None


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _DuplicateKey(name)
        result[name] = value
    return result


def _read_json(text: str, *, origin: str, limits: LoadLimits) -> Any:
    try:
        data = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=refuse_constant, parse_float=finite_float
        )
    except _DuplicateKey as exc:
        raise DocumentError([Problem("", f"duplicate key {exc.args[0]!r}", origin)]) from None
    except JsonTextError as exc:
        # Not handed on to the YAML reader: it would take ``NaN`` for the string "NaN".
        raise DocumentError([Problem("", str(exc), origin)]) from None
    except RecursionError:
        raise DocumentError(
            [Problem("", f"the document is nested deeper than {limits.max_depth} levels", origin)]
        ) from None
    too_much = _measure(data, limits=limits)
    if too_much is not None:
        raise DocumentError([Problem("", too_much, origin)])
    return data


def _read(text: str, *, origin: str, limits: LoadLimits, several: bool) -> list[Any]:
    if text.lstrip()[:1] in ("{", "["):
        # JSON is the common machine-written form and its parser is far faster; YAML takes over
        # (and explains) anything JSON rejects, since flow-style YAML looks the same.
        try:
            return [_read_json(text, origin=origin, limits=limits)]
        except ValueError:
            pass
    try:
        return read_yaml(text, max_depth=limits.max_depth, max_nodes=limits.max_nodes, several=several)
    except ReadError as exc:
        raise DocumentError([Problem(exc.path, exc.message, origin)]) from None
    except RecursionError:
        raise DocumentError([Problem("", "the document is too deeply nested to read", origin)]) from None


def _mapping(data: Any, origin: str) -> dict[str, Any]:
    if data is None:
        message = "is empty: a workflow document is a mapping with document and do"
        raise DocumentError([Problem("", message, origin)])
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        raise DocumentError([Problem("", f"must be a mapping with document and do, not {kind}", origin)])
    return data


def read_document(
    source: str | bytes | Path, *, origin: str = "<input>", limits: LoadLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """The plain data of one document, which must be a mapping; raises ``DocumentError``."""
    text = read_source(source, origin=origin, limits=limits)
    found = _read(text, origin=origin, limits=limits, several=False)
    return _mapping(found[0] if found else None, origin)


def read_documents(
    source: str | bytes | Path, *, origin: str = "<input>", limits: LoadLimits = DEFAULT_LIMITS
) -> list[Any]:
    """The plain data of every document of a YAML stream (``---``), as Kubernetes files hold.

    Raises ``DocumentError`` when the source cannot be read; whether each item is a mapping
    is the caller's to check.
    """
    text = read_source(source, origin=origin, limits=limits)
    return _read(text, origin=origin, limits=limits, several=True)
