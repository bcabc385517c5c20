"""Compiling runtime expressions and value templates, once, at workflow compile time.

libjq binds ``$name`` variables at compile time only, so per-run arguments (``$context``,
``$input``, a ``for`` loop's ``$item``...) reach the program as part of its input instead: an
expression that mentions ``$a`` and ``$b`` compiles to ``. as [$__d, $a, $b] | $__d | (EXPR)``
and is fed ``[data, a, b]``. Only the variables the text mentions are passed, so the common
expression that reads only ``.`` pays nothing for a large ``$context``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import jq

from baton.expressions._compound import Defer, compile_compound
from baton.expressions._errors import ExpressionError
from baton.expressions._paths import compile_path

__all__ = [
    "EMPTY_VARIABLES",
    "Expression",
    "Mode",
    "ValueTemplate",
    "compile_expression",
    "compile_value",
    "is_strict_expression",
    "strip_expression",
]

Mode = Literal["strict", "loose"]

EMPTY_VARIABLES: Final[Mapping[str, Any]] = {}

_STRICT = re.compile(r"^\s*\$\{(?P<body>.*)\}\s*$", re.DOTALL)
_VARIABLE = re.compile(r"\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
_NOT_ARGUMENTS = frozenset({"ENV", "__loc__", "__prog_args"})

_cache_lock = threading.Lock()
_program_cache: dict[str, Any] = {}
_CACHE_LIMIT = 4096


def is_strict_expression(text: str) -> bool:
    """Whether ``text`` is a runtime expression in strict mode, i.e. wholly enclosed in ``${ }``."""
    return _STRICT.match(text) is not None


def strip_expression(text: str) -> str:
    """The jq source of an expression, with any enclosing ``${ }`` removed."""
    match = _STRICT.match(text)
    return match.group("body").strip() if match else text.strip()


def _jq_program(source: str) -> Any:
    with _cache_lock:
        program = _program_cache.get(source)
    if program is not None:
        return program
    program = jq.compile(source)
    with _cache_lock:
        if len(_program_cache) >= _CACHE_LIMIT:
            _program_cache.clear()
        _program_cache[source] = program
    return program


class Expression:
    """One compiled runtime expression. ``evaluate`` is safe to call concurrently."""

    __slots__ = ("_evaluate", "native", "path", "source", "variables")

    def __init__(
        self,
        source: str,
        *,
        path: str,
        evaluate: Callable[[Any, Mapping[str, Any]], Any],
        variables: frozenset[str],
        native: bool,
    ) -> None:
        self.source = source
        self.path = path
        self.variables = variables
        self.native = native
        self._evaluate = evaluate

    def evaluate(self, data: Any, variables: Mapping[str, Any] = EMPTY_VARIABLES) -> Any:
        """The expression's first result on ``data`` (``None`` when it yields nothing)."""
        try:
            return self._evaluate(data, variables)
        except ExpressionError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise ExpressionError(str(exc), path=self.path, expression=self.source) from exc

    def __repr__(self) -> str:
        kind = "native" if self.native else "jq"
        return f"Expression({self.source!r}, {kind})"


def compile_expression(text: str, *, path: str = "") -> Expression:
    """Compile a field that is always a runtime expression (``if``, ``when``, ``for.in``...).

    Such fields may be written with or without ``${ }``; both mean the same jq program.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression string, got {type(text).__name__}", path=path)
    source = strip_expression(text)
    if not source:
        raise ExpressionError("empty expression", path=path, expression=text)
    native = compile_path(source)
    if native is not None:
        variable, evaluate = native
        return Expression(
            source,
            path=path,
            evaluate=evaluate,
            variables=frozenset({variable}) if variable else frozenset(),
            native=True,
        )
    mentioned = (m.group("name") for m in _VARIABLE.finditer(source))
    names = tuple(dict.fromkeys(n for n in mentioned if n not in _NOT_ARGUMENTS))
    if names:
        program_text = f". as [$__d, {', '.join('$' + n for n in names)}] | $__d | ({source}\n)"
    else:
        program_text = source
    try:
        program = _jq_program(program_text)
    except ValueError as exc:
        message = str(exc).replace(program_text, source)
        raise ExpressionError(_first_line(message), path=path, expression=source) from exc
    evaluate = _jq_evaluator(program, names)
    compound = compile_compound(source)
    if compound is not None:
        return Expression(
            source,
            path=path,
            evaluate=_native_or_jq(compound[1], evaluate),
            variables=frozenset(names),
            native=True,
        )
    return Expression(source, path=path, evaluate=evaluate, variables=frozenset(names), native=False)


def _native_or_jq(
    native: Callable[[Any, Mapping[str, Any]], Any], jq_evaluate: Callable[[Any, Mapping[str, Any]], Any]
) -> Callable[[Any, Mapping[str, Any]], Any]:
    """Evaluate natively where the answer is certainly libjq's; anything else (a float sum, a
    path that does not apply) is evaluated by libjq, so results and errors are its own."""

    def evaluate_compound(data: Any, variables: Mapping[str, Any]) -> Any:
        try:
            return native(data, variables)
        except (Defer, ValueError):
            return jq_evaluate(data, variables)

    return evaluate_compound


_LOCATION = re.compile(r"\s+at <top-level>, line \d+(?:, column \d+)?:?\s*$")


def _first_line(message: str) -> str:
    """libjq's first complaint, without its ``jq: error:`` prefix or its position (which
    points into the wrapped program, not into what the author wrote)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    first = lines[0] if lines else message
    first = first.removeprefix("jq: error:").strip()
    return _LOCATION.sub("", first)


def _jq_evaluator(program: Any, names: tuple[str, ...]) -> Callable[[Any, Mapping[str, Any]], Any]:
    if not names:

        def evaluate_plain(data: Any, variables: Mapping[str, Any]) -> Any:
            try:
                return program.input_value(data).first()
            except StopIteration:
                return None

        return evaluate_plain

    def evaluate_with_variables(data: Any, variables: Mapping[str, Any]) -> Any:
        packed = [data]
        for name in names:
            packed.append(variables.get(name))
        try:
            return program.input_value(packed).first()
        except StopIteration:
            return None

    return evaluate_with_variables


# -- value templates ---------------------------------------------------------------------------

# A compiled leaf or subtree: (data, variables, batched results or None) -> value.
_Render = Callable[[Any, Mapping[str, Any], "list[Any] | None"], Any]


class ValueTemplate:
    """A structure whose strings may be runtime expressions, compiled once.

    ``render`` returns the constant itself (shared, never copied: the engine never mutates
    values) when nothing in it is an expression. When it holds several jq expressions, they
    run as one jq program: libjq then parses the data once instead of once per expression,
    which is most of the cost on large payloads. If that program fails, each expression is
    evaluated on its own, so the error names the one that failed.
    """

    __slots__ = ("_batch", "_render", "constant", "expressions", "is_constant", "variables")

    def __init__(
        self,
        *,
        render: _Render | None,
        constant: Any,
        expressions: tuple[Expression, ...],
        batch: Expression | None = None,
    ) -> None:
        self._render = render
        self._batch = batch
        self.constant = constant
        self.is_constant = render is None
        self.expressions = expressions
        self.variables = frozenset(v for e in expressions for v in e.variables)

    @classmethod
    def of_expression(cls, expression: Expression, *, source: Any = None) -> ValueTemplate:
        """A template that is one expression (e.g. a string ``output.as``)."""
        evaluate = expression.evaluate

        def render(data: Any, variables: Mapping[str, Any], results: list[Any] | None) -> Any:
            return evaluate(data, variables)

        return cls(render=render, constant=source, expressions=(expression,))

    def render(self, data: Any, variables: Mapping[str, Any] = EMPTY_VARIABLES) -> Any:
        if self._render is None:
            return self.constant
        results: list[Any] | None = None
        if self._batch is not None:
            try:
                results = self._batch.evaluate(data, variables)
            except ExpressionError:
                results = None
        return self._render(data, variables, results)


def compile_value(value: Any, *, path: str = "", mode: Mode = "strict") -> ValueTemplate:
    """Compile a structure in which strings may be runtime expressions.

    In ``strict`` mode only strings wholly enclosed in ``${ }`` are expressions. In ``loose``
    mode every string is tried as jq; one that does not compile, or fails when evaluated,
    stands for itself, as the spec says.
    """
    expressions: list[Expression] = []
    batched: list[Expression] = []
    render = _compile_node(value, path, mode, expressions, batched)
    batch = _batch_program(batched, path) if len(batched) > 1 else None
    return ValueTemplate(render=render, constant=value, expressions=tuple(expressions), batch=batch)


def _batch_program(expressions: list[Expression], path: str) -> Expression | None:
    # `first(e)` keeps each expression's own semantics: its first result, null when it has none.
    items = ", ".join(f"([first({e.source}\n)] | .[0])" for e in expressions)
    try:
        return compile_expression(f"[{items}]", path=path)
    except ExpressionError:
        return None


def _compile_node(
    value: Any, path: str, mode: Mode, found: list[Expression], batched: list[Expression]
) -> _Render | None:
    if isinstance(value, str):
        return _compile_string(value, path, mode, found, batched)
    if isinstance(value, dict):
        parts: list[tuple[str, Any, _Render | None]] = []
        dynamic = False
        for key, item in value.items():
            sub = _compile_node(item, f"{path}.{key}" if path else str(key), mode, found, batched)
            dynamic = dynamic or sub is not None
            parts.append((key, item, sub))
        if not dynamic:
            return None
        frozen = tuple(parts)

        def render_object(data: Any, variables: Mapping[str, Any], results: list[Any] | None) -> Any:
            return {
                key: (item if sub is None else sub(data, variables, results)) for key, item, sub in frozen
            }

        return render_object
    if isinstance(value, list):
        items = [
            (item, _compile_node(item, f"{path}[{i}]", mode, found, batched)) for i, item in enumerate(value)
        ]
        if all(sub is None for _, sub in items):
            return None
        frozen_items = tuple(items)

        def render_array(data: Any, variables: Mapping[str, Any], results: list[Any] | None) -> Any:
            return [item if sub is None else sub(data, variables, results) for item, sub in frozen_items]

        return render_array
    return None


def _compile_string(
    text: str, path: str, mode: Mode, found: list[Expression], batched: list[Expression]
) -> _Render | None:
    if is_strict_expression(text):
        expression = compile_expression(text, path=path)
        found.append(expression)
        evaluate = expression.evaluate
        if expression.native:

            def render_native(data: Any, variables: Mapping[str, Any], results: list[Any] | None) -> Any:
                return evaluate(data, variables)

            return render_native
        slot = len(batched)
        batched.append(expression)

        def render_jq(data: Any, variables: Mapping[str, Any], results: list[Any] | None) -> Any:
            return evaluate(data, variables) if results is None else results[slot]

        return render_jq
    if mode == "strict":
        return None
    try:
        expression = compile_expression(text, path=path)
    except ExpressionError:
        return None
    found.append(expression)

    def render_loose(data: Any, variables: Mapping[str, Any], results: list[Any] | None) -> Any:
        try:
            return expression.evaluate(data, variables)
        except ExpressionError:
            return text

    return render_loose
