"""Runtime expressions: the native path evaluator agrees with jq, and templates render per spec."""

from __future__ import annotations

import random
from typing import Any

import jq
import pytest

from baton.expressions import ExpressionError, compile_expression, compile_value

PATHS = [
    ".",
    ".a",
    ".a.b",
    ".a.b[0]",
    ".a.b[-1]",
    ".a.b[-9]",
    ".a.b[7]",
    ".a[0]",
    ".[0]",
    ".[1].a",
    '.["a"]',
    '.["with space"]',
    '.a["b"][0]',
    ".a.b.c",
    ".x.y.z",
    ".n",
    ".s.a",
    ".t.a",
    ".arr[0].a",
    ".arr.a",
    "$input",
    "$input.a",
    "$input.a.b[1]",
    "$context.deep[0][1]",
    "$missing.a",
]

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -3,
    2.5,
    "s",
    "",
    [],
    [1, "x", None],
    {},
    {"a": None},
    {"a": 1},
    {"a": {"b": [1, 2, {"c": 3}]}},
    {"a": {"b": {"c": None}}},
    {"with space": 7},
    {"arr": [{"a": 1}, {"a": 2}], "n": 5, "s": "str", "t": True},
]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randrange(-5, 5)
    if kind == 3:
        return rng.choice(["a", "b", ""])
    if kind == 4:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["a", "b", "c", "deep", "arr"]
    return {k: _random_value(rng, depth + 1) for k in rng.sample(keys, rng.randrange(len(keys)))}


def _jq_reference(text: str, data: Any, variables: dict[str, Any]) -> tuple[str, Any]:
    names = sorted(variables)
    program = f". as [$__d, {', '.join('$' + n for n in names)}] | $__d | ({text})"
    try:
        return "ok", jq.compile(program).input_value([data, *(variables[n] for n in names)]).first()
    except ValueError:
        return "error", None


def _ours(text: str, data: Any, variables: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", compile_expression(text).evaluate(data, variables)
    except ExpressionError:
        return "error", None


@pytest.mark.parametrize("text", PATHS)
def test_plain_paths_are_evaluated_natively(text: str) -> None:
    assert compile_expression(text).native


@pytest.mark.parametrize("text", PATHS)
def test_native_paths_give_the_same_result_or_failure_as_jq_on_many_inputs(text: str) -> None:
    rng = random.Random(text)
    inputs = VALUES + [_random_value(rng) for _ in range(150)]
    for data in inputs:
        variables = {"input": data, "context": {"deep": [[0, data]]}, "missing": None}
        assert _ours(text, data, variables) == _jq_reference(text, data, variables), (text, data)


@pytest.mark.parametrize(
    "text", [".a | length", ".a?", "..", ".a[]", ".a[1:2]", "$ENV.HOME", '."a"', ".if", ".a,.b"]
)
def test_anything_beyond_a_plain_path_goes_to_jq(text: str) -> None:
    assert not compile_expression(text).native


def test_strict_and_bare_forms_of_an_always_expression_field_are_the_same_program() -> None:
    data = {"a": 1}
    assert compile_expression("${ .a }").evaluate(data) == compile_expression(".a").evaluate(data) == 1


def test_expressions_see_only_the_variables_they_name_and_missing_ones_are_null() -> None:
    expression = compile_expression("[$input.x, $color, $index]")
    assert expression.variables == {"input", "color", "index"}
    assert expression.evaluate(None, {"input": {"x": 1}, "color": "red"}) == [1, "red", None]


def test_an_expression_that_yields_nothing_evaluates_to_null() -> None:
    assert compile_expression("empty").evaluate(1) is None


def test_a_syntax_error_names_the_expression_and_its_path() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(".a |||", path="do[0].check.if")
    assert caught.value.path == "do[0].check.if"
    assert ".a |||" in str(caught.value)


def test_an_evaluation_failure_is_an_expression_error_with_jq_message() -> None:
    with pytest.raises(ExpressionError, match="Cannot index number"):
        compile_expression(".a.b | . + 1", path="p").evaluate({"a": 5})


def test_jq_definitions_and_comments_survive_the_variable_wrapper() -> None:
    expression = compile_expression("def twice: . * 2; $input | twice # doubled")
    assert expression.evaluate(None, {"input": 4}) == 8


def test_strict_templates_evaluate_only_enclosed_strings() -> None:
    template = compile_value({"a": "${ .x }", "b": [1, "${ .y + 1 }"], "c": ".x", "d": {"e": 1}})
    assert template.render({"x": "X", "y": 2}) == {"a": "X", "b": [1, 3], "c": ".x", "d": {"e": 1}}


def test_constant_templates_return_the_constant_itself_without_copying() -> None:
    constant = {"shape": "circle", "size": [1, 2]}
    template = compile_value(constant)
    assert template.is_constant
    assert template.render({"anything": 1}) is constant


def test_loose_templates_evaluate_every_string_and_keep_the_text_when_it_fails() -> None:
    template = compile_value({"a": ".x", "b": "hello world", "c": ".x.y"}, mode="loose")
    assert template.render({"x": 3}) == {"a": 3, "b": "hello world", "c": ".x.y"}


def test_a_bad_expression_inside_a_template_names_its_path() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_value({"body": {"name": "${ .a | }"}}, path="do[1].call.with")
    assert caught.value.path == "do[1].call.with.body.name"


def test_several_jq_expressions_in_a_template_keep_their_own_first_result_semantics() -> None:
    template = compile_value(
        {
            "count": "${ .items | length }",
            "none": "${ empty }",
            "first": "${ .items[] }",
            "endless": "${ repeat(1) }",
            "with": "${ $k + 1 }",
            "native": "${ .items[0] }",
        }
    )
    assert template.render({"items": [5, 6]}, {"k": 1}) == {
        "count": 2,
        "none": None,
        "first": 5,
        "endless": 1,
        "with": 2,
        "native": 5,
    }


def test_a_failing_expression_in_a_batched_template_is_reported_at_its_own_path() -> None:
    template = compile_value({"ok": "${ .a | length }", "bad": "${ .a.b | length }"}, path="do[0].t.set")
    with pytest.raises(ExpressionError) as caught:
        template.render({"a": [1]})
    assert caught.value.path == "do[0].t.set.bad"
