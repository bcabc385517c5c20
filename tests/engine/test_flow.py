"""Control and data flow: do, set, switch, if, then directives, input/output/export, schemas."""

from __future__ import annotations

import pytest

from baton.engine import CompileError, Limits, RunEnvironment, compile_workflow
from tests.engine._support import document, run


async def test_set_tasks_run_in_declaration_order_each_replacing_the_data(env: RunEnvironment) -> None:
    result = await run(
        [
            {"setRed": {"set": {"colors": '${ .colors + ["red"] }'}}},
            {"setGreen": {"set": {"colors": '${ .colors + ["green"] }'}}},
        ],
        {"other": 1},
        env=env,
    )
    assert result.status == "completed"
    assert result.output == {"colors": ["red", "green"]}
    assert [r.name for r in result.timeline] == ["setRed", "setGreen"]


async def test_set_with_a_single_expression_sets_its_value(env: RunEnvironment) -> None:
    result = await run([{"pick": {"set": "${ .a.b }"}}], {"a": {"b": [1, 2]}}, env=env)
    assert result.output == [1, 2]


async def test_then_jumps_to_a_named_sibling_and_end_stops_the_workflow(env: RunEnvironment) -> None:
    result = await run(
        [
            {"setRed": {"set": {"colors": '${ .colors + ["red"] }'}, "then": "setGreen"}},
            {"setBlue": {"set": {"colors": '${ .colors + ["blue"] }'}, "then": "end"}},
            {"setGreen": {"set": {"colors": '${ .colors + ["green"] }'}, "then": "setBlue"}},
        ],
        env=env,
    )
    assert result.output == {"colors": ["red", "green", "blue"]}
    assert [r.name for r in result.timeline] == ["setRed", "setGreen", "setBlue"]


async def test_exit_completes_only_the_enclosing_do(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "inner": {
                    "do": [
                        {"first": {"set": {"step": 1}, "then": "exit"}},
                        {"never": {"set": {"step": 99}}},
                    ]
                }
            },
            {"after": {"set": {"step": "${ .step + 1 }"}}},
        ],
        env=env,
    )
    assert result.output == {"step": 2}
    assert not result.timeline.find("never")


@pytest.mark.parametrize(
    ("color", "expected", "case"),
    [("red", {"colors": ["red"]}, "red"), ("yellow", {"colors": ["yellow"]}, "other")],
)
async def test_switch_takes_the_first_matching_case_or_the_default(
    env: RunEnvironment, color: str, expected: object, case: str
) -> None:
    result = await run(
        [
            {
                "switchColor": {
                    "switch": [
                        {"red": {"when": '.color == "red"', "then": "setRed"}},
                        {"other": {"then": "setCustom"}},
                    ]
                }
            },
            {"setRed": {"set": {"colors": '${ .colors + ["red"] }'}, "then": "end"}},
            {"setCustom": {"set": {"colors": "${ .colors + [ $input.color ] }"}}},
        ],
        {"color": color},
        env=env,
    )
    assert result.output == expected
    assert result.timeline.find("switchColor")[0].decision == {"case": case}


async def test_switch_without_a_match_follows_its_own_then(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "switchColor": {
                    "switch": [{"red": {"when": '.color == "red"', "then": "setRed"}}],
                    "then": "end",
                }
            },
            {"setRed": {"set": {"colors": ["red"]}}},
        ],
        {"color": "yellow"},
        env=env,
    )
    assert result.output == {"color": "yellow"}
    assert [r.name for r in result.timeline] == ["switchColor"]
    assert result.timeline.records[0].decision == {"case": None}


async def test_a_task_whose_if_is_false_is_skipped_and_passes_its_input_on(env: RunEnvironment) -> None:
    result = await run(
        [{"maybe": {"if": "${ .go }", "set": {"ran": True}}}, {"after": {"set": {"seen": "${ . }"}}}],
        {"go": False},
        env=env,
    )
    assert result.output == {"seen": {"go": False}}
    skipped = result.timeline.find("maybe")[0]
    assert skipped.status == "skipped"
    assert skipped.decision == {"if": False}


async def test_input_from_output_as_and_export_as_shape_the_data_and_context(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "first": {
                    "input": {"from": ".user"},
                    "set": {"id": "${ .id }", "name": "${ .name }"},
                    "output": {"as": "${ {player: .id} }"},
                    "export": {"as": "${ $context + {name: $output.player} }"},
                }
            },
            {"second": {"set": {"player": "${ .player }", "fromContext": "${ $context.name }"}}},
        ],
        {"user": {"id": "p1", "name": "Ann"}},
        env=env,
    )
    assert result.output == {"player": "p1", "fromContext": "p1"}


async def test_workflow_input_and_output_transformations_apply_at_the_edges(env: RunEnvironment) -> None:
    result = await run(
        [{"double": {"set": {"n": "${ .n * 2 }"}}}],
        {"payload": {"n": 21}},
        env=env,
        input={"from": "${ .payload }"},
        output={"as": "${ .n }"},
    )
    assert result.output == 42


async def test_task_input_that_breaks_its_schema_faults_with_a_validation_error(env: RunEnvironment) -> None:
    schema = {"format": "json", "document": {"type": "object", "required": ["id"]}}
    result = await run(
        [{"check": {"input": {"schema": schema}, "set": {"ok": True}}}], {"name": "x"}, env=env
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type == "https://serverlessworkflow.io/spec/1.0.0/errors/validation"
    assert result.error.status == 400
    assert result.error.instance == "/do/0/check"
    assert "'id' is a required property" in (result.error.detail or "")


async def test_workflow_output_schema_is_checked_after_output_as(env: RunEnvironment) -> None:
    schema = {"format": "json", "document": {"type": "string"}}
    result = await run([{"one": {"set": {"n": 1}}}], env=env, output={"schema": schema})
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.instance == "/output"


async def test_a_failing_expression_faults_with_an_expression_error_at_the_task(env: RunEnvironment) -> None:
    result = await run([{"ok": {"set": {"a": 1}}}, {"bad": {"set": {"x": "${ .a.b }"}}}], env=env)
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type.endswith("/errors/expression")
    assert result.error.status == 400
    assert result.error.instance == "/do/1/bad"
    assert "Cannot index number" in (result.error.detail or "")


async def test_a_then_loop_is_stopped_by_the_step_budget(env: RunEnvironment) -> None:
    result = await run(
        [{"spin": {"set": {"n": "${ (.n // 0) + 1 }"}, "then": "spin"}}],
        env=env,
        limits=Limits(max_steps=50),
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.title == "Step budget exhausted"
    assert "Limits.max_steps" in (result.error.detail or "")
    assert len(result.timeline) == 50


async def test_input_over_the_payload_limit_is_refused_before_any_task_runs(env: RunEnvironment) -> None:
    result = await run(
        [{"one": {"set": {"n": 1}}}], {"blob": "x" * 2000}, env=env, limits=Limits(max_payload_bytes=1000)
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.status == 413
    assert "max_payload_bytes" in (result.error.detail or "")
    assert len(result.timeline) == 0


async def test_an_output_over_the_payload_limit_faults_the_run_and_is_not_kept(env: RunEnvironment) -> None:
    result = await run(
        [{"grow": {"set": {"blob": "${ .seed * 2000 }"}}}],
        {"seed": "x"},
        env=env,
        limits=Limits(max_payload_bytes=1000),
    )
    assert result.error is not None
    assert (result.error.status, result.error.instance) == (413, "/output")
    assert result.output is None
    assert result.to_dict()["output"] is None


def test_compiling_reports_every_problem_with_its_path() -> None:
    with pytest.raises(CompileError) as caught:
        compile_workflow(
            document(
                [
                    {"a": {"set": {"x": "${ .x | }"}, "then": "nowhere"}},
                    {"b": {"wait": "PT1X"}},
                    {"c": {"raise": {"error": "undefinedError"}}},
                ]
            )
        )
    paths = [path for path, _ in caught.value.problems]
    assert "do[0].a.set.x" in paths
    assert "do[0].a.then" in paths
    assert "do[1].b.wait" in paths
    assert "do[2].c.raise.error" in paths


async def test_runtime_arguments_describe_the_task_workflow_and_runtime(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "describe": {
                    "set": {
                        "task": "${ $task.name }",
                        "ref": "${ $task.reference }",
                        "wf": "${ $workflow.id }",
                        "raw": "${ $workflow.input }",
                        "runtime": "${ $runtime.name }",
                    }
                }
            }
        ],
        {"k": 1},
        env=env,
    )
    assert result.output["task"] == "describe"
    assert result.output["ref"] == "/do/0/describe"
    assert result.output["wf"] == result.run_id
    assert result.output["raw"] == {"k": 1}
    assert result.output["runtime"] == "baton"


async def test_workflow_input_that_breaks_its_schema_faults_before_any_task(env: RunEnvironment) -> None:
    schema = {"format": "json", "document": {"type": "object", "properties": {"n": {"type": "integer"}}}}
    result = await run([{"one": {"set": {}}}], {"n": "seven"}, env=env, input={"schema": schema})
    assert result.error is not None
    assert result.error.type.endswith("/validation")
    assert result.error.instance == "/input"
    assert "$.n" in (result.error.detail or "")
    assert len(result.timeline) == 0


async def test_an_exported_context_that_breaks_its_schema_faults_the_task(env: RunEnvironment) -> None:
    schema = {"format": "json", "document": {"type": "object", "required": ["user"]}}
    result = await run(
        [{"keep": {"set": {"x": 1}, "export": {"as": "${ {other: .x} }", "schema": schema}}}], env=env
    )
    assert result.error is not None
    assert result.error.instance == "/do/0/keep"
    assert "exported context" in (result.error.detail or "")


async def test_loose_mode_evaluates_bare_strings_and_keeps_plain_text(env: RunEnvironment) -> None:
    result = await run(
        [{"mix": {"set": {"n": ".n + 1", "greeting": "hello there"}}}],
        {"n": 1},
        env=env,
        evaluate={"language": "jq", "mode": "loose"},
    )
    assert result.output == {"n": 2, "greeting": "hello there"}


async def test_for_binds_item_and_index_by_default(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "loop": {
                    "for": {"in": ".xs"},
                    "do": [
                        {"acc": {"set": {"xs": "${ .xs }", "seen": "${ (.seen // []) + [[$index, $item]] }"}}}
                    ],
                }
            }
        ],
        {"xs": ["a", "b"]},
        env=env,
    )
    assert result.output["seen"] == [[0, "a"], [1, "b"]]


async def test_then_continue_is_the_default_flow(env: RunEnvironment) -> None:
    result = await run(
        [{"a": {"set": {"v": 1}, "then": "continue"}}, {"b": {"set": {"v": "${ .v + 1 }"}}}], env=env
    )
    assert result.output == {"v": 2}


async def test_a_failing_workflow_input_transformation_is_an_expression_fault(env: RunEnvironment) -> None:
    result = await run([{"one": {"set": {}}}], {"a": 1}, env=env, input={"from": "${ .a.b }"})
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type.endswith("/expression")
    assert result.error.instance == "/input/from"


async def test_workflow_output_as_sees_the_transformed_workflow_input_as_input(env: RunEnvironment) -> None:
    result = await run(
        [{"double": {"set": {"n": "${ .n * 2 }"}}}],
        {"payload": {"n": 21}, "customer": "c-1"},
        env=env,
        input={"from": "${ .payload + {customer} }"},
        output={"as": "${ {n: .n, customer: $input.customer, was: $input.n, ctx: $context.n} }"},
    )
    assert result.status == "completed"
    assert result.output == {"n": 42, "customer": "c-1", "was": 21, "ctx": 21}


async def test_a_caller_that_validated_the_input_spares_the_engine_checking_it_again(
    env: RunEnvironment,
) -> None:
    schema = {"format": "json", "document": {"type": "object", "required": ["id"]}}
    compiled = compile_workflow(document([{"keep": {"set": "${ . }"}}], input={"schema": schema}))
    checked = await compiled.run({"name": "x"}, env=env)
    assert checked.status == "faulted"
    assert checked.error is not None
    assert checked.error.instance == "/input"
    # The server's intake refuses such a request with a 400 before any run; what reaches the
    # engine with input_validated=True has passed the same schema.
    trusted = await compiled.run({"id": 1}, env=env, input_validated=True)
    assert trusted.status == "completed"
    skipped = await compiled.run({"name": "x"}, env=env, input_validated=True)
    assert skipped.status == "completed"
