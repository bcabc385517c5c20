"""JSON text in and out of a run, held to RFC 8259 rather than to what Python's ``json`` allows.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``1e999`` (as an infinite float), unpaired UTF-16
surrogates (``"\\ud800"``) and, from bytes, any UTF encoding; it writes ``NaN`` back out, which
no JSON parser downstream accepts, and fails on surrogates only when the text is encoded, far
from where they came in. Nesting is bounded only by the interpreter's stack, so a 2 KB body of
brackets raised ``RecursionError`` out of the server. Here every such text is refused where it
enters, with what is wrong and where (a JSON pointer when there is one), and a value that JSON
cannot carry is refused where it would leave.

The checks cost little on ordinary data (2.31 vs 2.23 us to read a 90-byte answer): depth
is walked only when the text has more brackets than the limit (and costs about two thirds of a
parse then), surrogates are looked for only when the text escapes one that is not half of a
pair, and the writer finds the culprit only after ``json`` refused the value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_NESTING", "JsonTextError", "encode_json", "finite_float", "parse_json", "refuse_constant"]

#: Arrays and objects nested in client input (serde_json's default): JSON Schema validation
#: walks the input recursively. Upstream answers pass ``max_depth=None`` (see ``parse_json``).
MAX_NESTING = 128

_CONTAINERS = frozenset({dict, list})
#: An escaped high surrogate not followed by an escaped low one, or a low one not preceded by
#: a high one: a pair (an emoji escaped by an ASCII-only writer) is one character and passes.
#: A match may still be a false alarm (an escaped backslash before "u"); the walk decides.
_LONE_SURROGATE_ESCAPE = re.compile(
    r"\\u[dD](?:[89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|[c-fC-F][0-9a-fA-F]{2}(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}))"
)
_SURROGATE = "the string holds an unpaired UTF-16 surrogate{}, which is not Unicode text"


class JsonTextError(ValueError):
    """A JSON text or value outside RFC 8259, with where in the value when known.

    ``malformed`` says the text is not JSON at all (bad syntax, not UTF-8), as opposed to JSON
    syntax holding what JSON does not allow: a reader may take the former as plain text.
    """

    def __init__(self, reason: str, *, pointer: str | None = None, malformed: bool = False) -> None:
        self.reason = reason
        self.pointer = pointer
        self.malformed = malformed
        where = "" if pointer is None else f" at {pointer}" if pointer else " at the top level"
        super().__init__(reason + where)


def refuse_constant(name: str) -> Any:
    """``json``'s ``parse_constant`` hook: JSON has no NaN or Infinity."""
    raise JsonTextError(f"{name} is not a JSON number")


def finite_float(text: str) -> float:
    """``json``'s ``parse_float`` hook: ``1e999`` is JSON syntax but no number a run can carry."""
    number = float(text)
    if math.isinf(number):
        raise JsonTextError(f"{_clip(text)} is out of range for a number")
    return number


_DECODER = json.JSONDecoder(parse_constant=refuse_constant, parse_float=finite_float)


def parse_json(text: bytes | str, *, max_depth: int | None = MAX_NESTING) -> Any:
    """The value of a JSON text (UTF-8 when bytes); ``JsonTextError`` says why one is refused.

    ``max_depth=None`` leaves nesting to the interpreter's own bound (about 900 levels past
    what the caller's stack uses), for readers whose data meets no recursive step that needs
    the tighter one: walking a large document for its depth costs about as much as parsing it.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = exc.object[exc.start]
            reason = f"the text is not UTF-8 (byte {exc.start} is {byte:#04x})"
            raise JsonTextError(reason, malformed=True) from None
    if text.startswith("\ufeff"):
        # RFC 8259 8.1: a parser may ignore a byte order mark; Python's json.loads(bytes) did.
        text = text[1:]
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _not_json(exc) from None
    except (JsonTextError, ValueError, RecursionError) as exc:
        # A number is refused as soon as it is read, so text that breaks the syntax further on
        # ("-Infinity and more") would be called unwritable JSON rather than not JSON at all.
        syntax = _syntax_error(text)
        if syntax is not None:
            raise syntax from None
        if isinstance(exc, JsonTextError):
            raise
        if isinstance(exc, RecursionError):
            raise JsonTextError(_too_deep(max_depth)) from None
        # The only other refusal: int() and numbers of over 4,300 digits (CPython's guard
        # against quadratic-time parsing).
        raise JsonTextError("a number has over 4300 digits") from None
    if max_depth is not None and text.count("[") + text.count("{") > max_depth:
        _check_depth(value, max_depth)
    if _LONE_SURROGATE_ESCAPE.search(text):
        _check_strings(value)
    return value


def _syntax_error(text: str) -> JsonTextError | None:
    """Whether ``text`` is not JSON at all, reading numbers as text (no value is built)."""
    try:
        json.loads(text, parse_constant=str, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        return _not_json(exc)
    except RecursionError:
        return None
    return None


def _not_json(exc: json.JSONDecodeError) -> JsonTextError:
    return JsonTextError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}", malformed=True)


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON text of ``value``; ``JsonTextError`` names the first part JSON cannot carry."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError) as exc:
        culprit = _unwritable(value)
        if culprit is None:
            # json refused something the walk accepts: say what json said, not nothing.
            raise JsonTextError(f"the value cannot be written as JSON: {exc}") from None
        raise JsonTextError(culprit[0], pointer=culprit[1]) from None


def _check_depth(value: Any, max_depth: int) -> None:
    # Level by level, containers only, no paths: a third of the cost of a walk that tracks
    # where it is. Where the limit is crossed is looked for only once it is known to be.
    level = [value]
    for _ in range(max_depth):
        below: list[Any] = []
        keep = below.append
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) in _CONTAINERS:
                    keep(child)
        if not below:
            return
        level = below
    raise JsonTextError(_too_deep(max_depth), pointer=_pointer(_path_below(value, max_depth), clip=8))


def _path_below(value: Any, max_depth: int) -> tuple[str | int, ...]:
    """The path of the first container nested deeper than ``max_depth``."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) == max_depth:
            return path
        if isinstance(node, dict):
            members: Any = node.items()
        elif isinstance(node, list):
            members = enumerate(node)
        else:
            continue
        stack.extend((child, (*path, key)) for key, child in members if isinstance(child, dict | list))
    return ()


def _check_strings(value: Any) -> None:
    """Refuse the first string (in document order) holding an unpaired surrogate."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            _require_unicode(node, path)
        elif isinstance(node, dict):
            for key in node:
                _require_unicode(key, path)
            stack.extend((child, (*path, key)) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, (*path, index)) for index, child in reversed(list(enumerate(node))))


def _require_unicode(text: str, path: tuple[str | int, ...]) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        raise JsonTextError(_SURROGATE.format(f" (\\u{code:04x})"), pointer=_pointer(path)) from None


def _unwritable(value: Any) -> tuple[str, str] | None:
    """Why and where ``value`` is not JSON, or None; depth-first in document order."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_NESTING:
            return _too_deep(MAX_NESTING), _pointer(path, clip=8)
        if node is None or isinstance(node, bool | int):
            continue
        if isinstance(node, float):
            if not math.isfinite(node):
                return f"{node!r} is not a JSON number", _pointer(path)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return _SURROGATE.format(""), _pointer(path)
        elif isinstance(node, dict):
            for key in node:
                # json writes int, float, bool and None keys as strings; nothing else.
                if not isinstance(key, str | int | float | None) or (
                    isinstance(key, float) and not math.isfinite(key)
                ):
                    return f"the object key {key!r} cannot be written as a JSON string", _pointer(path)
            stack.extend((child, (*path, key)) for key, child in reversed(node.items()))
        elif isinstance(node, list | tuple):
            stack.extend((child, (*path, index)) for index, child in reversed(list(enumerate(node))))
        else:
            return f"a {type(node).__name__} value is not JSON", _pointer(path)
    return None


def _pointer(path: tuple[str | int, ...], *, clip: int | None = None) -> str:
    """An RFC 6901 pointer; ``clip`` keeps its first steps and marks the rest with ``/…``."""
    steps = path if clip is None or len(path) <= clip else path[:clip]
    text = "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in steps)
    # A key may itself hold the unpaired surrogate: the pointer must stay writable.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text + "/…" if len(steps) < len(path) else text


def _too_deep(max_depth: int | None) -> str:
    if max_depth is None:
        return "arrays and objects are nested too deeply to read"
    return f"arrays and objects are nested deeper than {max_depth} levels"


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
