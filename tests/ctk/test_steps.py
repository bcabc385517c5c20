import pytest

from tests.ctk._gherkin import parse_feature
from tests.ctk._kit import feature_files
from tests.ctk._steps import Outcome, Plan, StepError, TaskRun, compile_scenario, same_json

HEAD = 'Feature: f\n  Scenario: s\n    Given a workflow with definition:\n    """yaml\n    do: []\n    """\n'


def plan_of(*steps: str, when: bool = True) -> Plan:
    body = (
        HEAD
        + ("    When the workflow is executed\n" if when else "")
        + "".join(f"    {line}\n" for line in steps)
    )
    return compile_scenario(parse_feature(body).scenarios[0])


def verify(plan: Plan, outcome: Outcome) -> None:
    for check in plan.checks:
        check(outcome)


def task(name: str, started: float, ended: float | None, status: str = "completed", **kw: object) -> TaskRun:
    return TaskRun(name=name, path=f"/do/0/{name}", status=status, started=started, ended=ended, **kw)  # type: ignore[arg-type]


DONE = Outcome(
    status="completed",
    output={"request": {"method": "get", "headers": {}}, "colors": ["red"], "n": 1},
    error=None,
    tasks=[task("a", 0, 1), task("b", 1, 2), task("c", 2, 3)],
)


def test_the_definition_and_input_are_arranged_from_yaml_doc_strings() -> None:
    body = HEAD + '    And given the workflow input is:\n    """yaml\n    petId: 1\n    """\n'
    body += "    When the workflow is executed\n    Then the workflow should complete\n"
    plan = compile_scenario(parse_feature(body).scenarios[0])
    assert plan.definition == "do: []"
    assert plan.input == {"petId": 1}
    assert len(plan.checks) == 1


def test_an_unknown_step_is_an_error_not_ignored() -> None:
    with pytest.raises(StepError, match="unknown step Then 'the workflow should explode'"):
        plan_of("Then the workflow should explode")


@pytest.mark.parametrize(
    ("steps", "when", "message"),
    [
        (["Then the workflow should complete"], False, "out of Given/When/Then order"),
        (["When the workflow is executed"], True, "executed once"),
        ([], True, "asserts nothing"),
        (["Then the workflow should complete with output:"], True, "needs a doc string"),
        (['Then the workflow should complete\n    """\n    x\n    """'], True, "takes no doc string"),
        (
            [
                "Then the workflow should complete",
                'And given the workflow input is:\n    """\n    x\n    """',
            ],
            True,
            "arrange step after the workflow was executed",
        ),
    ],
)
def test_misused_steps_are_refused(steps: list[str], when: bool, message: str) -> None:
    with pytest.raises(StepError, match=message):
        plan_of(*steps, when=when)


def test_run_status_and_output_checks_pass_and_fail_as_the_kit_means() -> None:
    verify(plan_of("Then the workflow should complete"), DONE)
    with pytest.raises(AssertionError, match="ended completed, not faulted"):
        verify(plan_of("Then the workflow should fault"), DONE)
    plan = plan_of('Then the workflow should complete with output:\n    """yaml\n    n: 1\n    """')
    with pytest.raises(AssertionError, match="!= expected"):
        verify(plan, DONE)


def test_properties_follow_dotted_paths() -> None:
    present_but_null = Outcome(status="completed", output={"x": None}, error=None)
    verify(plan_of("Then the workflow output should have properties 'x'"), present_but_null)
    plan = plan_of("And the workflow output should have properties 'request', 'request.method', 'colors.0'")
    verify(plan, DONE)
    plan = plan_of("And the workflow output should have properties 'request.uri'")
    with pytest.raises(AssertionError, match="request has no 'uri'"):
        verify(plan, DONE)


def test_property_value_and_item_count_checks_fail_on_a_mismatch() -> None:
    verify(plan_of("And the workflow output should have a 'colors' property containing 1 items"), DONE)
    with pytest.raises(AssertionError, match="has 1 items, expected 3"):
        verify(plan_of("And the workflow output should have a 'colors' property containing 3 items"), DONE)
    plan = plan_of(
        "And the workflow output should have a 'request.method' property with value:\n"
        '    """yaml\n    get\n    """'
    )
    verify(plan, DONE)


def test_task_order_is_read_from_the_timeline() -> None:
    verify(
        plan_of(
            "Then a should run first",
            "And c should run last",
            "And b should run after a",
            "And a should run before c",
        ),
        DONE,
    )
    with pytest.raises(AssertionError, match="'c' ran last, not 'b'"):
        verify(plan_of("Then b should run last"), DONE)
    with pytest.raises(AssertionError, match="'a' started before 'b'"):
        verify(plan_of("Then a should run after b"), DONE)
    with pytest.raises(AssertionError, match="never ran"):
        verify(plan_of("Then z should run first"), DONE)


def test_overlapping_tasks_are_not_in_sequence() -> None:
    concurrent = Outcome(status="completed", output={}, error=None, tasks=[task("x", 0, 5), task("y", 1, 2)])
    with pytest.raises(AssertionError, match="started while 'x' was running"):
        verify(plan_of("Then y should run after x"), concurrent)


def test_task_status_output_and_error() -> None:
    outcome = Outcome(
        status="faulted",
        output=None,
        error={"type": "t", "status": 400, "title": "T", "instance": "/do/1/b", "detail": "d"},
        tasks=[
            task("a", 0, 1, output={"k": 1}),
            task("b", 1, 2, status="faulted", error={"type": "t", "status": 400}),
        ],
    )
    verify(
        plan_of(
            "Then a should complete",
            "And b should fault",
            'And a should complete with output:\n    """yaml\n    k: 1\n    """',
            'And b should fault with error:\n    """yaml\n    status: 400\n    """',
            'And the workflow should fault with error:\n    """yaml\n    type: t\n'
            '    instance: /do/1/b\n    """',
        ),
        outcome,
    )
    with pytest.raises(AssertionError, match="differs from expected"):
        verify(
            plan_of('Then the workflow should fault with error:\n    """yaml\n    status: 500\n    """'),
            outcome,
        )
    with pytest.raises(AssertionError, match="ended faulted, not cancelled"):
        verify(plan_of("Then b should cancel"), outcome)


def test_every_official_scenario_uses_only_documented_steps() -> None:
    files = feature_files()
    if not files:
        pytest.skip("the conformance kit (../shared/serverless-workflow/ctk) is absent")
    for path in files:
        for scenario in parse_feature(path.read_text(encoding="utf-8"), origin=path.name).scenarios:
            plan = compile_scenario(scenario)
            assert plan.definition, f"{path.name}: {scenario.name}"
            assert plan.checks, f"{path.name}: {scenario.name}"


@pytest.mark.parametrize(
    ("actual", "expected", "same"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (1, True, False),
        ({"a": [0]}, {"a": [False]}, False),
        ({"a": [1, "x"]}, {"a": [1.0, "x"]}, True),
        (None, {}, False),
        ("1", 1, False),
        ({"a": 1}, {"a": 1, "b": None}, False),
    ],
)
def test_values_are_compared_as_json_not_as_python(actual: object, expected: object, same: bool) -> None:
    assert same_json(actual, expected) is same


def test_a_boolean_output_does_not_pass_for_a_number() -> None:
    plan = plan_of('Then the workflow should complete with output:\n    """yaml\n    1\n    """')
    with pytest.raises(AssertionError, match="True != expected 1"):
        verify(plan, Outcome(status="completed", output=True, error=None))
