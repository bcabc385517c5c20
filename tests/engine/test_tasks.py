"""for, raise, wait, emit and run: workflow."""

from __future__ import annotations

import pytest

from baton.engine import (
    Catalog,
    CompileError,
    FakeClock,
    InMemoryEventSink,
    Limits,
    RunEnvironment,
    compile_workflow,
)
from tests.engine._support import document, run


async def test_for_feeds_each_iteration_the_previous_output_with_item_and_index(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "loopColors": {
                    "for": {"each": "color", "in": ".colors"},
                    "do": [
                        {
                            "mark": {
                                "set": {
                                    "colors": "${ .colors }",
                                    "processed": "${ {colors: (.processed.colors + [$color]), "
                                    "indexes: (.processed.indexes + [$index])} }",
                                }
                            }
                        }
                    ],
                }
            }
        ],
        {"colors": ["red", "green", "blue"]},
        env=env,
    )
    assert result.output["processed"] == {"colors": ["red", "green", "blue"], "indexes": [0, 1, 2]}
    assert result.timeline.find("loopColors")[0].decision == {"iterations": 3}
    assert len(result.timeline.find("mark")) == 3


async def test_for_stops_when_while_no_longer_holds(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "sum": {
                    "for": {"in": ".numbers", "each": "n", "at": "i"},
                    "while": "${ (.total // 0) < 5 }",
                    "do": [
                        {"add": {"set": {"numbers": "${ .numbers }", "total": "${ (.total // 0) + $n }"}}}
                    ],
                }
            }
        ],
        {"numbers": [1, 2, 3, 4, 5]},
        env=env,
    )
    assert result.output["total"] == 6


async def test_for_over_a_non_array_is_an_expression_error(env: RunEnvironment) -> None:
    result = await run([{"loop": {"for": {"in": ".n"}, "do": [{"x": {"set": {}}}]}}], {"n": 3}, env=env)
    assert result.error is not None
    assert result.error.type.endswith("/expression")


async def test_raise_faults_with_the_inline_error_and_the_task_as_instance(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "raiseError": {
                    "raise": {
                        "error": {
                            "status": 400,
                            "type": "https://serverlessworkflow.io/errors/types/compliance",
                            "title": "Compliance Error",
                            "detail": '${ "order " + .id + " refused" }',
                        }
                    }
                }
            }
        ],
        {"id": "o-1"},
        env=env,
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.to_dict() == {
        "type": "https://serverlessworkflow.io/errors/types/compliance",
        "status": 400,
        "title": "Compliance Error",
        "detail": "order o-1 refused",
        "instance": "/do/0/raiseError",
    }


async def test_raise_can_name_an_error_defined_in_use_errors(env: RunEnvironment) -> None:
    result = await run(
        [{"refuse": {"raise": {"error": "notAllowed"}}}],
        env=env,
        use={"errors": {"notAllowed": {"type": "https://example.com/not-allowed", "status": 403}}},
    )
    assert result.error is not None
    assert (result.error.type, result.error.status, result.error.instance) == (
        "https://example.com/not-allowed",
        403,
        "/do/0/refuse",
    )


async def test_wait_sleeps_on_the_environment_clock(fake_env: RunEnvironment, clock: FakeClock) -> None:
    result = await run(
        [{"pause": {"wait": {"minutes": 1, "seconds": 30}}}, {"pause2": {"wait": "PT2S"}}],
        {"a": 1},
        env=fake_env,
    )
    assert result.output == {"a": 1}
    assert clock.sleeps == [90.0, 2.0]


async def test_emit_publishes_a_cloudevent_to_the_sink_and_outputs_it() -> None:
    sink = InMemoryEventSink()
    async with RunEnvironment(events=sink) as env:
        result = await run(
            [
                {
                    "emitEvent": {
                        "emit": {
                            "event": {
                                "with": {
                                    "source": "https://fake-source.com",
                                    "type": "com.fake-source.user.greeted.v1",
                                    "data": {"greetings": '${ "Hello \\(.user.firstName)!" }'},
                                }
                            }
                        }
                    }
                }
            ],
            {"user": {"firstName": "John"}},
            env=env,
        )
    event = result.output
    assert sink.events == [event]
    assert {"id", "specversion", "time", "source", "type", "data"} <= set(event)
    assert event["data"] == {"greetings": "Hello John!"}
    assert event["specversion"] == "1.0"


def _child() -> dict[str, object]:
    return {
        "document": {"dsl": "1.0.3", "namespace": "lib", "name": "double", "version": "1.0.0"},
        "do": [{"twice": {"set": {"n": "${ .n * 2 }"}}}],
    }


async def test_run_workflow_runs_a_catalog_workflow_with_the_given_input(env: RunEnvironment) -> None:
    catalog = Catalog([_child()])
    workflow = compile_workflow(
        document(
            [
                {
                    "sub": {
                        "run": {
                            "workflow": {
                                "namespace": "lib",
                                "name": "double",
                                "version": "1.0.0",
                                "input": {"n": "${ .value }"},
                            }
                        }
                    }
                }
            ]
        ),
        catalog=catalog,
    )
    result = await workflow.run({"value": 21}, env=env)
    assert result.output == {"n": 42}
    assert [(r.path, r.parent) for r in result.timeline] == [
        ("/do/0/sub", None),
        ("/do/0/sub/run/workflow/do/0/twice", "/do/0/sub"),
    ]


async def test_an_error_inside_a_sub_workflow_points_into_it_from_the_parent(env: RunEnvironment) -> None:
    child = {
        "document": {"dsl": "1.0.3", "namespace": "lib", "name": "fails", "version": "1.0.0"},
        "do": [{"refuse": {"raise": {"error": {"type": "https://example.com/no", "status": 409}}}}],
    }
    workflow = compile_workflow(
        document(
            [{"sub": {"run": {"workflow": {"namespace": "lib", "name": "fails", "version": "latest"}}}}]
        ),
        catalog=Catalog([child]),
    )
    result = await workflow.run({}, env=env)
    assert result.error is not None
    assert result.error.instance == "/do/0/sub/run/workflow/do/0/refuse"


def test_run_workflow_of_a_workflow_missing_from_the_catalog_does_not_compile() -> None:
    with pytest.raises(CompileError, match=r"lib/absent:1\.0\.0 is not in the catalog"):
        compile_workflow(
            document(
                [{"sub": {"run": {"workflow": {"namespace": "lib", "name": "absent", "version": "1.0.0"}}}}]
            ),
            catalog=Catalog(),
        )


async def test_recursive_sub_workflows_are_bounded_by_the_depth_limit(env: RunEnvironment) -> None:
    recursive = {
        "document": {"dsl": "1.0.3", "namespace": "lib", "name": "again", "version": "1.0.0"},
        "do": [{"recurse": {"run": {"workflow": {"namespace": "lib", "name": "again", "version": "1.0.0"}}}}],
    }
    catalog = Catalog([recursive])
    workflow = compile_workflow(recursive, catalog=catalog, limits=Limits(max_depth=3))
    result = await workflow.run({}, env=env)
    assert result.error is not None
    assert "Limits.max_depth" in (result.error.detail or "")


async def test_wait_takes_its_duration_from_an_expression(fake_env: RunEnvironment, clock: FakeClock) -> None:
    result = await run([{"pause": {"wait": "${ .delay }"}}], {"delay": "PT1M30S"}, env=fake_env)
    assert result.status == "completed"
    assert clock.sleeps == [90.0]


async def test_a_wait_expression_that_is_not_a_duration_faults(fake_env: RunEnvironment) -> None:
    result = await run([{"pause": {"wait": "${ .delay }"}}], {"delay": "soon"}, env=fake_env)
    assert result.error is not None
    assert result.error.type.endswith("/expression")


def test_durations_outside_wait_must_be_static() -> None:
    with pytest.raises(CompileError, match="must be static"):
        compile_workflow(document([{"slow": {"set": {}, "timeout": {"after": "${ .t }"}}}]))
