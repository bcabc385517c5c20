"""A bounded YAML reader: builds plain data from libyaml's event stream, never recursively.

``yaml.safe_load`` builds shared objects for aliases (so a "billion laughs" document is small
in memory but explodes in whatever walks it next) and recurses in the composer (so 100,000
nested brackets overflow the C stack). Building from events lets us count every value an
alias expands to, bound the nesting depth, refuse recursive aliases, duplicate keys and
non-JSON tags, and resolve plain scalars with YAML 1.2 core rules, in which ``on``, ``yes``
and ``no`` are strings (``schedule.on`` must not become ``True``) and dates stay text.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from baton.dsl import _paths

__all__ = ["ReadError", "read_yaml"]

try:  # libyaml's parser, when PyYAML was built with it: several times faster
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the PyYAML build
    _Parser = yaml.Loader  # type: ignore[assignment,misc]


class ReadError(Exception):
    """The text is not acceptable YAML; ``path`` is where the reader was, if anywhere."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


_CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_NUMBER_DIGITS = 1000


def _number(text: str, kind: str) -> int | float:
    if len(text) > _NUMBER_DIGITS:
        raise ValueError(f"a number longer than {_NUMBER_DIGITS} characters")
    if kind == "int":
        if _OCT.match(text):
            return int(text[2:], 8)
        if _HEX.match(text):
            return int(text[2:], 16)
        return int(text)
    if _INF.match(text) or _NAN.match(text):
        # YAML has them, JSON does not: a workflow's data must survive being sent as JSON.
        raise ValueError(f"{text} is not a number JSON can carry")
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is out of range for a number")
    return number


def _plain(text: str) -> Any:
    """YAML 1.2 core schema resolution of an untagged plain scalar."""
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text) or _OCT.match(text) or _HEX.match(text):
        return _number(text, "int")
    if _FLOAT.match(text) or _INF.match(text) or _NAN.match(text):
        return _number(text, "float")
    return text


def _tagged(tag: str, text: str) -> Any:
    name = tag[len(_CORE) :] if tag.startswith(_CORE) else None
    if name == "str":
        return text
    if name == "null" and _NULL.match(text):
        return None
    if name == "bool" and (_TRUE.match(text) or _FALSE.match(text)):
        return bool(_TRUE.match(text))
    if name == "int" and (_INT.match(text) or _OCT.match(text) or _HEX.match(text)):
        return _number(text, "int")
    if name == "float" and (_FLOAT.match(text) or _INF.match(text) or _NAN.match(text) or _INT.match(text)):
        return float(_number(text, "float"))
    if name in {"null", "bool", "int", "float"}:
        raise ValueError(f"{text!r} is not a valid !!{name}")
    raise ValueError(f"unsupported YAML tag {tag} (only JSON-like data is accepted)")


_OPEN = object()
_NO_KEY = object()
_MERGE = object()


@dataclass(slots=True)
class _Frame:
    container: list[Any] | dict[str, Any]
    #: The key or index this container has in its parent (paths are only built for errors).
    slot: Any
    anchor: str | None
    size: int = 1
    key: Any = _NO_KEY
    #: Merged mappings (``<<``), applied at the end so that explicit keys win.
    merges: list[dict[str, Any]] = field(default_factory=list)


class _Builder:
    def __init__(self, *, max_depth: int, max_nodes: int, several: bool) -> None:
        self.several = several
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.stack: list[_Frame] = []
        self.anchors: dict[str, Any] = {}
        self.nodes = 0
        self.documents = 0
        self.roots: list[Any] = []

    # -- where we are -------------------------------------------------------------------
    def frame_path(self, depth: int) -> str:
        """The path of the container at ``depth`` of the stack."""
        path = ""
        for frame in self.stack[1 : depth + 1]:
            slot = frame.slot
            path = _paths.index(path, slot) if isinstance(slot, int) else _paths.key(path, slot)
        return path

    def slot(self) -> Any:
        """Where the next value goes in the innermost container."""
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return len(frame.container)
        return "<<" if frame.key is _MERGE else frame.key

    def path(self) -> str:
        if not self.stack:
            return ""
        path = self.frame_path(len(self.stack) - 1)
        slot = self.slot()
        if slot is _NO_KEY:
            return path
        return _paths.index(path, slot) if isinstance(slot, int) else _paths.key(path, slot)

    def fail(self, message: str) -> ReadError:
        return ReadError(message, self.path())

    # -- events -------------------------------------------------------------------------
    def count(self, size: int) -> None:
        self.nodes += size
        if self.nodes > self.max_nodes:
            raise self.fail(
                f"the document has more than {self.max_nodes:,} values once YAML aliases are expanded"
            )

    def start(self, container: list[Any] | dict[str, Any], anchor: str | None, tag: str | None) -> None:
        expected = f"{_CORE}seq" if isinstance(container, list) else f"{_CORE}map"
        if tag not in (None, "!", expected):
            raise self.fail(f"unsupported YAML tag {tag} (only JSON-like data is accepted)")
        if self.stack and self._expecting_key():
            raise self.fail("a mapping key must be a plain value, not a list or mapping")
        if len(self.stack) >= self.max_depth:
            raise self.fail(f"the document is nested deeper than {self.max_depth} levels")
        if anchor is not None:
            self.anchors[anchor] = _OPEN
        self.count(1)
        self.stack.append(_Frame(container, self.slot() if self.stack else None, anchor))

    def _expecting_key(self) -> bool:
        frame = self.stack[-1]
        return isinstance(frame.container, dict) and frame.key is _NO_KEY

    def end(self) -> None:
        frame = self.stack.pop()
        if isinstance(frame.container, dict):
            for merged in frame.merges:
                for name, value in merged.items():
                    frame.container.setdefault(name, value)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.container, frame.size)
        self.add(frame.container, frame.size)

    def scalar(self, event: Any) -> None:
        if self.stack and self._expecting_key():
            self.key(event.value, merge=event.value == "<<" and event.implicit[0])
            if event.anchor is not None:
                self.anchors[event.anchor] = (event.value, 1)
            self.count(1)
            return
        try:
            if event.tag in (None, "!"):
                value = _plain(event.value) if event.implicit[0] and event.tag is None else event.value
            else:
                value = _tagged(event.tag, event.value)
        except ValueError as exc:
            raise self.fail(str(exc)) from None
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        self.count(1)
        self.add(value, 1)

    def alias(self, name: str) -> None:
        target = self.anchors.get(name)
        if target is None:
            raise self.fail(f"unknown YAML alias *{name}")
        if target is _OPEN:
            raise self.fail(f"YAML alias *{name} refers to a value that contains it (a cycle)")
        value, size = target
        self.count(size)
        if self.stack and self._expecting_key():
            if not isinstance(value, str):
                raise self.fail(f"YAML alias *{name} used as a key must name a plain value")
            self.key(value, merge=False)
            return
        # An independent copy, so the result is a tree like JSON (bounded by the count above).
        self.add(copy.deepcopy(value) if isinstance(value, list | dict) else value, size)

    def next_document(self) -> None:
        self.documents += 1
        if self.documents > 1 and not self.several:
            raise ReadError("the file holds more than one YAML document (---); give one per file")

    def key(self, name: str, *, merge: bool) -> None:
        frame = self.stack[-1]
        if not merge and name in frame.container:
            raise ReadError(f"duplicate key {name!r}", _paths.key(self.frame_path(len(self.stack) - 1), name))
        frame.key = _MERGE if merge else name

    def add(self, value: Any, size: int) -> None:
        if not self.stack:
            self.roots.append(value)
            return
        frame = self.stack[-1]
        frame.size += size
        if isinstance(frame.container, list):
            frame.container.append(value)
            return
        name = frame.key
        frame.key = _NO_KEY
        if name is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(source, dict) for source in sources):
                path = self.frame_path(len(self.stack) - 1)
                raise ReadError("a YAML merge (<<) needs a mapping or a list of mappings", path)
            frame.merges.extend(sources)
            return
        frame.container[name] = value


def read_yaml(text: str, *, max_depth: int, max_nodes: int, several: bool = False) -> list[Any]:
    """Plain data (dict, list, str, int, float, bool, None) of each YAML document in ``text``.

    Unless ``several`` is true, a second document (``---``) is an error. The bounds apply to
    the whole stream.
    """
    builder = _Builder(max_depth=max_depth, max_nodes=max_nodes, several=several)
    parser: Any = None
    try:
        parser = _Parser(text)
        handlers: dict[type, Any] = {
            yaml.ScalarEvent: builder.scalar,
            yaml.SequenceStartEvent: lambda event: builder.start([], event.anchor, event.tag),
            yaml.MappingStartEvent: lambda event: builder.start({}, event.anchor, event.tag),
            yaml.SequenceEndEvent: lambda _: builder.end(),
            yaml.MappingEndEvent: lambda _: builder.end(),
            yaml.AliasEvent: lambda event: builder.alias(event.anchor or ""),
            yaml.DocumentStartEvent: lambda _: builder.next_document(),
        }
        get_event = parser.get_event
        while True:
            event = get_event()
            if event is None or type(event) is yaml.StreamEndEvent:
                break
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ReadError(f"invalid YAML{where}: {exc.problem or exc.context}", builder.path()) from None
    except yaml.YAMLError as exc:
        raise ReadError(f"invalid YAML: {exc}", builder.path()) from None
    finally:
        dispose = getattr(parser, "dispose", None) if parser is not None else None
        if dispose is not None:
            dispose()
    return builder.roots
