"""Object construction and integer sums evaluated natively: always libjq's result or error."""

from __future__ import annotations

import random
from typing import Any

import jq
import pytest

from baton.expressions import ExpressionError, compile_expression

COMPOUND = [
    "{customer: $context.customer, total: (.[0].price + .[1].price + .[2].price)}",
    "{n: .n}",
    "{}",
    '{"with space": .a, b: 1, c: null, d: true, e: "text"}',
    "{a: {b: .a.b, c: (.c + 1)}}",
    ".a + .b",
    ".a + .b + $input.a",
    "(.a + (.b + .c))",
    ". + null",
    "1 + 2",
    "{a: .arr[0].a, b: .arr[-1]}",
]

NOT_NATIVE = ["{a}", "{$context}", "{(.a): 1}", "{a: .b + .c}", ".a - .b", ".a + 1.5", "{a: .b | .c}",
              '{a: "x\\(.b)"}', "{a: 1,}", ".a + .b?", "{if: 1}", "[.a, .b]",
              "{a: 1, b: 2, a: 3}"]  # fmt: skip


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 1, -7, 2**53 - 1, 2**53, -(2**53), 2**60 + 1])
    if kind == 3:
        # Not integral: jq writes 1.0 as 1, a documented difference of every native path.
        return rng.choice([0.5, 1.5, 0.1, 2.5e-7, -123.456])
    if kind in (4, 5):
        return rng.choice(["a", "b", "", "é"])
    if kind == 6:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["a", "b", "c", "n", "arr", "price", "customer"]
    return {k: _value(rng, depth + 1) for k in rng.sample(keys, rng.randrange(len(keys)))}


def _reference(text: str, data: Any, variables: dict[str, Any]) -> tuple[str, Any]:
    names = sorted(variables)
    program = f". as [$__d, {', '.join('$' + n for n in names)}] | $__d | ({text})"
    try:
        return "ok", jq.compile(program).input_value([data, *(variables[n] for n in names)]).first()
    except ValueError as exc:
        return "error", str(exc)


def _as_jq_writes(value: Any) -> Any:
    """A value passed through as jq would write it: jq holds numbers as doubles, so an integer
    past 2**53 comes back rounded. Native paths return the value they were given (documented);
    sums are never native outside 2**53, so this does not hide a wrong sum."""
    if type(value) is int and abs(value) > 2**53:
        return int(float(value))
    if isinstance(value, list):
        return [_as_jq_writes(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_jq_writes(v) for k, v in value.items()}
    return value


def _ours(text: str, data: Any, variables: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", _as_jq_writes(compile_expression(text).evaluate(data, variables))
    except ExpressionError as exc:
        return "error", exc.message


@pytest.mark.parametrize("text", COMPOUND)
def test_object_construction_and_sums_of_paths_are_evaluated_natively(text: str) -> None:
    assert compile_expression(text).native


@pytest.mark.parametrize("text", NOT_NATIVE)
def test_other_compound_expressions_go_to_jq(text: str) -> None:
    try:
        expression = compile_expression(text)
    except ExpressionError:
        return  # jq refuses it too: nothing to evaluate
    assert not expression.native


@pytest.mark.parametrize("text", COMPOUND)
def test_native_compounds_give_jqs_result_and_jqs_error_on_many_inputs(text: str) -> None:
    rng = random.Random(text)
    prices = [[{"price": rng.choice([1, 2, 2**52, None, 1.5, "x"])} for _ in range(3)] for _ in range(30)]
    inputs = prices + [_value(rng) for _ in range(300)]
    for data in inputs:
        variables = {"input": _value(rng), "context": {"customer": _value(rng)}}
        ours, reference = _ours(text, data, variables), _reference(text, data, variables)
        assert ours == reference, (text, data, variables)
        if ours[0] == "ok":
            # Same JSON, not merely equal numbers: 3 is not written as 3.0.
            assert repr(ours[1]) == repr(reference[1]), (text, data)
