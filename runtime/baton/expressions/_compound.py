"""Native evaluation of small compound expressions: object construction and integer sums of
plain paths, the shape of most ``output.as`` transformations::

    {customer: $context.customer, total: (.[0].price + .[1].price + .[2].price)}

The grammar accepted is a strict subset of jq's (jq compiled the same text first, so nothing jq
refuses gets here): terms are plain paths (``.a[0]``, ``$input.x``, ``.``), non-negative integer
literals, ``null``/``true``/``false``, strings without escapes, parenthesised sums and objects
``{key: term, "key": term}``; a sum adds terms with ``+``. Anything else is left to libjq.

Evaluation is native only where the result is certainly jq's: ``+`` of two integers whose
operands and sum lie within 2**53 (exact in jq's doubles, printed by jq as integers), or with
``null`` on either side. For anything else (floats, strings, arrays, objects, a path that does
not apply to the data) the evaluator raises :class:`Defer` and the caller runs libjq on the
whole expression, so results and error messages are libjq's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from baton.expressions._paths import parse_path, walk

__all__ = ["Defer", "compile_compound"]

_Eval = Callable[[Any, Mapping[str, Any]], Any]

#: Integers jq's doubles hold exactly.
_EXACT = 2**53

_SPACE = re.compile(r"\s*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"\d+(?![\w.])")
_STRING = re.compile(r'"([^"\\]*)"')
_LITERALS = {"null": None, "true": True, "false": False}
_KEYWORDS = frozenset(
    {"and", "or", "not", "if", "then", "elif", "else", "end", "as", "def", "reduce", "foreach"}
    | {"try", "catch", "label", "import", "include", "__loc__"}
)


class Defer(Exception):
    """This evaluation is not certainly jq's: run libjq instead."""


class _Refuse(Exception):
    """The text is outside the native subset."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.variables: set[str] = set()

    def skip(self) -> None:
        match = _SPACE.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _Refuse
        self.pos += 1

    def sum(self) -> _Eval:
        terms = [self.term()]
        while self.peek() == "+":
            self.pos += 1
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        first, rest = terms[0], tuple(terms[1:])

        def evaluate_sum(data: Any, variables: Mapping[str, Any]) -> Any:
            total = first(data, variables)
            for term in rest:
                total = _add(total, term(data, variables))
            return total

        return evaluate_sum

    def term(self) -> _Eval:
        char = self.peek()
        if char == "(":
            self.pos += 1
            inner = self.sum()
            self.expect(")")
            return inner
        if char == "{":
            return self.object()
        if char in (".", "$"):
            return self.path()
        if char == '"':
            return self.constant(self.string())
        match = _INTEGER.match(self.text, self.pos)
        if match is not None:
            value = int(match.group())
            if value >= _EXACT:
                raise _Refuse
            self.pos = match.end()
            return self.constant(value)
        match = _IDENT.match(self.text, self.pos)
        if match is not None and match.group() in _LITERALS:
            self.pos = match.end()
            return self.constant(_LITERALS[match.group()])
        raise _Refuse

    def string(self) -> str:
        match = _STRING.match(self.text, self.pos)
        if match is None:
            raise _Refuse
        self.pos = match.end()
        return match.group(1)

    @staticmethod
    def constant(value: Any) -> _Eval:
        return lambda data, variables: value

    def path(self) -> _Eval:
        parsed = parse_path(self.text, self.pos)
        if parsed is None:
            raise _Refuse
        variable, steps, self.pos = parsed
        if variable is None:
            return lambda data, variables: walk(data, steps)
        self.variables.add(variable)
        name = variable
        return lambda data, variables: walk(variables.get(name), steps)

    def object(self) -> _Eval:
        self.expect("{")
        entries: list[tuple[str, _Eval]] = []
        if self.peek() == "}":
            self.pos += 1
        else:
            while True:
                self.skip()
                if self.peek() == '"':
                    key = self.string()
                else:
                    match = _IDENT.match(self.text, self.pos)
                    if match is None or match.group() in _KEYWORDS:
                        raise _Refuse
                    key = match.group()
                    self.pos = match.end()
                if any(key == seen for seen, _ in entries):
                    raise _Refuse
                self.expect(":")
                entries.append((key, self.term()))
                if self.peek() == ",":
                    self.pos += 1
                    continue
                self.expect("}")
                break
        frozen = tuple(entries)

        def evaluate_object(data: Any, variables: Mapping[str, Any]) -> Any:
            return {key: value(data, variables) for key, value in frozen}

        return evaluate_object


def _add(left: Any, right: Any) -> Any:
    if left is None:
        return right
    if right is None:
        return left
    if type(left) is int and type(right) is int:
        total = left + right
        if -_EXACT < left < _EXACT and -_EXACT < right < _EXACT and -_EXACT < total < _EXACT:
            return total
    raise Defer


def compile_compound(text: str) -> tuple[frozenset[str], _Eval] | None:
    """``(variables, evaluate)`` for an expression in the native subset, else ``None``.

    ``evaluate`` raises :class:`Defer` (or ``ValueError`` from a path) when only libjq can
    give the answer; the caller then evaluates the whole expression with libjq.
    """
    parser = _Parser(text)
    try:
        evaluate = parser.sum()
        parser.skip()
    except _Refuse:
        return None
    if parser.pos != len(text):
        return None
    return frozenset(parser.variables), evaluate
