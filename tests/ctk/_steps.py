"""The conformance kit's steps, as documented in ``ctk/README.md``, matched strictly.

A scenario is compiled into a :class:`Plan` before anything runs: the workflow document, its
input, and one :class:`Check` per assertion step. A step that matches no known pattern is an
error (never ignored), and so is a step that needs a doc string and has none, or has one it
does not use. Checks run against an :class:`Outcome`, an engine-neutral record of a run, so the
matcher is tested on its own and the engine adapter stays small.

Task order comes from the run's timeline (records in start order, nested tasks included):
``X should run first`` / ``last`` means the first / last record to start is X's;
``X should run before Y`` means X's first run had ended when Y's first run started (in
sequence, not merely earlier). ``X should complete/fault/cancel`` reads X's latest run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from tests.ctk._gherkin import Scenario, Step

__all__ = [
    "Check",
    "Outcome",
    "Plan",
    "StepError",
    "TaskRun",
    "compile_scenario",
    "same_json",
]

COMPLETED, FAULTED, CANCELLED = "completed", "faulted", "cancelled"


class StepError(ValueError):
    """A step is not one the kit documents, or is used wrongly."""


@dataclass(frozen=True)
class TaskRun:
    """One task's execution as the engine's timeline records it."""

    name: str
    path: str
    status: str  # completed | faulted | cancelled | skipped | running
    started: float
    ended: float | None
    output: Any = None
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    status: str
    output: Any
    error: dict[str, Any] | None
    #: In the order the tasks started.
    tasks: Sequence[TaskRun] = ()


@dataclass(frozen=True)
class Check:
    step: Step
    verify: Callable[[Outcome], None]

    def __call__(self, outcome: Outcome) -> None:
        try:
            self.verify(outcome)
        except AssertionError as exc:
            step = f"line {self.step.line}: {self.step.keyword} {self.step.text}"
            raise AssertionError(f"{step}\n{exc}") from None


@dataclass
class Plan:
    definition: str | None = None
    input: Any = None
    executed: bool = False
    checks: list[Check] = field(default_factory=list)


# --- step table -----------------------------------------------------------------------------

_NAME = r"(?P<task>[A-Za-z0-9_][A-Za-z0-9_.\-]*)"
_Handler = Callable[[Plan, re.Match[str], Step], None]
_STEPS: list[tuple[re.Pattern[str], bool, _Handler]] = []


def _step(pattern: str, *, doc: bool = False) -> Callable[[_Handler], _Handler]:
    def register(handler: _Handler) -> _Handler:
        _STEPS.append((re.compile(pattern), doc, handler))
        return handler

    return register


def compile_scenario(scenario: Scenario) -> Plan:
    plan = Plan()
    for step in scenario.steps:
        matches = [(doc, handler, m) for regex, doc, handler in _STEPS if (m := regex.fullmatch(step.text))]
        if not matches:
            raise StepError(f"line {step.line}: unknown step {step.keyword} {step.text!r}")
        if len(matches) > 1:
            raise StepError(f"line {step.line}: ambiguous step {step.text!r}")
        doc, handler, match = matches[0]
        if doc and step.doc_string is None:
            raise StepError(f"line {step.line}: step {step.text!r} needs a doc string")
        if not doc and step.doc_string is not None:
            raise StepError(f"line {step.line}: step {step.text!r} takes no doc string")
        is_assertion = step.keyword == "Then" or (step.keyword in ("And", "But") and plan.executed)
        if plan.executed != is_assertion and step.keyword != "When":
            raise StepError(f"line {step.line}: step {step.text!r} is out of Given/When/Then order")
        handler(plan, match, step)
    if plan.definition is None:
        raise StepError(f"scenario {scenario.name!r} defines no workflow")
    if not plan.executed:
        raise StepError(f"scenario {scenario.name!r} never executes the workflow")
    if not plan.checks:
        raise StepError(f"scenario {scenario.name!r} asserts nothing")
    return plan


def same_json(actual: Any, expected: Any) -> bool:
    """Equality as JSON means it: ``true`` is not ``1`` (as it is in Python), ``1`` is ``1.0``."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(same_json(actual[k], expected[k]) for k in actual)
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(
            same_json(a, e) for a, e in zip(actual, expected, strict=True)
        )
    return type(actual) is type(expected) and actual == expected


def _data(step: Step) -> Any:
    assert step.doc_string is not None
    media = step.doc_string.media_type.lower()
    if media in ("", "yaml", "yml"):
        return yaml.safe_load(step.doc_string.content)
    if media == "json":
        return json.loads(step.doc_string.content)
    raise StepError(f"line {step.line}: unsupported doc string media type {media!r}")


def _arrange(plan: Plan, step: Step) -> None:
    if plan.executed:
        raise StepError(f"line {step.line}: arrange step after the workflow was executed")


def _check(plan: Plan, step: Step, verify: Callable[[Outcome], None]) -> None:
    if not plan.executed:
        raise StepError(f"line {step.line}: assertion before the workflow is executed")
    plan.checks.append(Check(step=step, verify=verify))


# Arrange


@_step(r"a workflow with definition:", doc=True)
def _definition(plan: Plan, match: re.Match[str], step: Step) -> None:
    _arrange(plan, step)
    if plan.definition is not None:
        raise StepError(f"line {step.line}: the workflow is defined twice")
    assert step.doc_string is not None
    plan.definition = step.doc_string.content


@_step(r"(?:given )?the workflow input is:", doc=True)
def _input(plan: Plan, match: re.Match[str], step: Step) -> None:
    _arrange(plan, step)
    plan.input = _data(step)


# Act


@_step(r"the workflow is executed")
def _execute(plan: Plan, match: re.Match[str], step: Step) -> None:
    if step.keyword != "When" or plan.executed:
        raise StepError(f"line {step.line}: the workflow is executed once, in a When step")
    plan.executed = True


# Assert: the run


def _expect_status(outcome: Outcome, status: str) -> None:
    detail = f"error: {outcome.error}" if outcome.error else f"output: {outcome.output!r}"
    assert outcome.status == status, f"the workflow ended {outcome.status}, not {status} ({detail})"


@_step(r"the workflow should (?P<status>complete|fault|cancel)")
def _run_status(plan: Plan, match: re.Match[str], step: Step) -> None:
    status = {"complete": COMPLETED, "fault": FAULTED, "cancel": CANCELLED}[match["status"]]
    _check(plan, step, lambda outcome: _expect_status(outcome, status))


@_step(r"the workflow should complete with output:", doc=True)
def _run_output(plan: Plan, match: re.Match[str], step: Step) -> None:
    expected = _data(step)

    def verify(outcome: Outcome) -> None:
        _expect_status(outcome, COMPLETED)
        assert same_json(outcome.output, expected), f"output {outcome.output!r} != expected {expected!r}"

    _check(plan, step, verify)


@_step(r"the workflow should fault with error:", doc=True)
def _run_error(plan: Plan, match: re.Match[str], step: Step) -> None:
    expected = _data(step)
    if not isinstance(expected, dict) or not expected:
        raise StepError(f"line {step.line}: an expected error is a mapping of its properties")

    def verify(outcome: Outcome) -> None:
        _expect_status(outcome, FAULTED)
        _expect_error(outcome.error, expected)

    _check(plan, step, verify)


def _expect_error(actual: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    assert actual is not None, "no error was recorded"
    # The kit lists the properties it cares about; an error may carry more (e.g. `detail`).
    wrong = {key: actual.get(key) for key, value in expected.items() if not same_json(actual.get(key), value)}
    assert not wrong, f"error {actual!r} differs from expected {expected!r} in {sorted(wrong)}"


# Assert: the output's properties


_QUOTED = re.compile(r"'([^']+)'")


def _lookup(data: Any, path: str) -> Any:
    """Follow a dotted path (``request.headers``; a numeric segment indexes a list)."""
    current = data
    walked: list[str] = []
    for segment in path.split("."):
        if isinstance(current, dict) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            where = ".".join(walked) or "the output"
            keys = sorted(current) if isinstance(current, dict) else type(current).__name__
            raise AssertionError(f"{where} has no {segment!r} (it has {keys})")
        walked.append(segment)
    return current


@_step(r"the workflow output should have properties (?P<paths>'[^']+'(?:\s*,\s*'[^']+')*)")
def _properties(plan: Plan, match: re.Match[str], step: Step) -> None:
    paths = _QUOTED.findall(match["paths"])

    def verify(outcome: Outcome) -> None:
        _expect_status(outcome, COMPLETED)
        assert isinstance(outcome.output, dict), f"output is not a map: {outcome.output!r}"
        for path in paths:
            _lookup(outcome.output, path)

    _check(plan, step, verify)


@_step(r"the workflow output should have an? '(?P<path>[^']+)' property with value:", doc=True)
def _property_value(plan: Plan, match: re.Match[str], step: Step) -> None:
    path, expected = match["path"], _data(step)

    def verify(outcome: Outcome) -> None:
        _expect_status(outcome, COMPLETED)
        actual = _lookup(outcome.output, path)
        assert same_json(actual, expected), f"{path} is {actual!r}, expected {expected!r}"

    _check(plan, step, verify)


@_step(r"the workflow output should have an? '(?P<path>[^']+)' property containing (?P<count>\d+) items?")
def _property_count(plan: Plan, match: re.Match[str], step: Step) -> None:
    path, count = match["path"], int(match["count"])

    def verify(outcome: Outcome) -> None:
        _expect_status(outcome, COMPLETED)
        actual = _lookup(outcome.output, path)
        assert isinstance(actual, list | dict), f"{path} is not a collection: {actual!r}"
        assert len(actual) == count, f"{path} has {len(actual)} items, expected {count}: {actual!r}"

    _check(plan, step, verify)


# Assert: tasks, from the run's timeline


def _runs_of(outcome: Outcome, name: str) -> list[TaskRun]:
    runs = [task for task in outcome.tasks if task.name == name]
    ran = [task.name for task in outcome.tasks]
    assert runs, f"task {name!r} never ran (ran: {ran})"
    return runs


@_step(_NAME + r" should run (?P<where>first|last)")
def _ran_first_or_last(plan: Plan, match: re.Match[str], step: Step) -> None:
    name, where = match["task"], match["where"]

    def verify(outcome: Outcome) -> None:
        _runs_of(outcome, name)
        order = [task.name for task in outcome.tasks]
        edge = order[0] if where == "first" else order[-1]
        assert edge == name, f"{edge!r} ran {where}, not {name!r} (order: {order})"

    _check(plan, step, verify)


@_step(_NAME + r" should run (?P<relation>before|after) (?P<other>[A-Za-z0-9_][A-Za-z0-9_.\-]*)")
def _ran_relative(plan: Plan, match: re.Match[str], step: Step) -> None:
    earlier, later = match["task"], match["other"]
    if match["relation"] == "after":
        earlier, later = later, earlier

    def verify(outcome: Outcome) -> None:
        first, second = _runs_of(outcome, earlier)[0], _runs_of(outcome, later)[0]
        order = [task.name for task in outcome.tasks]
        # Before means in sequence: the first one had ended when the second one started.
        assert outcome.tasks.index(first) < outcome.tasks.index(second), (
            f"{later!r} started before {earlier!r} (order: {order})"
        )
        assert first.ended is not None, f"{earlier!r} never ended"
        assert first.ended <= second.started, f"{later!r} started while {earlier!r} was running"

    _check(plan, step, verify)


@_step(_NAME + r" should (?P<status>complete|fault|cancel)")
def _task_status(plan: Plan, match: re.Match[str], step: Step) -> None:
    name = match["task"]
    status = {"complete": COMPLETED, "fault": FAULTED, "cancel": CANCELLED}[match["status"]]

    def verify(outcome: Outcome) -> None:
        task = _runs_of(outcome, name)[-1]
        assert task.status == status, f"task {name!r} ended {task.status}, not {status}"

    _check(plan, step, verify)


@_step(_NAME + r" should complete with output:", doc=True)
def _task_output(plan: Plan, match: re.Match[str], step: Step) -> None:
    name, expected = match["task"], _data(step)

    def verify(outcome: Outcome) -> None:
        task = _runs_of(outcome, name)[-1]
        assert task.status == COMPLETED, f"task {name!r} ended {task.status}, not {COMPLETED}"
        assert same_json(task.output, expected), f"task {name!r} output {task.output!r} != {expected!r}"

    _check(plan, step, verify)


@_step(_NAME + r" should fault with error:", doc=True)
def _task_error(plan: Plan, match: re.Match[str], step: Step) -> None:
    name, expected = match["task"], _data(step)
    if not isinstance(expected, dict) or not expected:
        raise StepError(f"line {step.line}: an expected error is a mapping of its properties")

    def verify(outcome: Outcome) -> None:
        task = _runs_of(outcome, name)[-1]
        assert task.status == FAULTED, f"task {name!r} ended {task.status}, not {FAULTED}"
        _expect_error(task.error, expected)

    _check(plan, step, verify)
