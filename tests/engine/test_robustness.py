"""Malformed documents and data never escape as exceptions: compile raises CompileError, runs fault.

Seeds are the spec's own examples and the conformance kit's documents (read from
``../shared``; skipped when absent), mutated at random with values of the wrong type.
"""

from __future__ import annotations

import asyncio
import copy
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton.engine import (
    Catalog,
    CompileError,
    FakeClock,
    HttpResponse,
    Limits,
    RunEnvironment,
    TransportError,
    compile_workflow,
)

SPEC = Path(__file__).resolve().parents[3] / "shared" / "serverless-workflow"
JUNK: list[Any] = [
    None,
    1,
    -1,
    2.5,
    True,
    "x",
    "${ .a | }",
    "${ .a }",
    [],
    {},
    [1],
    {"a": 1},
    [{"x": 1}],
    "PT1S",
]
INPUTS: list[Any] = [
    None,
    {},
    {"a": 1, "colors": ["red"], "petId": 1, "user": {"firstName": "A"}},
    [1, 2],
    "s",
]


def _seeds() -> list[dict[str, Any]]:
    if not SPEC.is_dir():
        return []
    texts = [(SPEC / name).read_text() for name in ("dsl.md", "dsl-reference.md")]
    blocks = [b for text in texts for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    blocks += [
        b
        for f in sorted((SPEC / "ctk" / "features").glob("*.feature"))
        for b in re.findall(r'"""yaml\n(.*?)"""', f.read_text(), re.S)
    ]
    seeds = []
    for block in blocks:
        try:
            raw = yaml.safe_load(block)
        except yaml.YAMLError:
            continue
        if isinstance(raw, dict) and "do" in raw:
            seeds.append(raw)
    return seeds


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*at, index))


def _mutate(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    mutated = copy.deepcopy(document)
    locations = list(_paths(mutated))[1:]
    for _ in range(rng.randint(0, 3)):
        where = rng.choice(locations)
        target: Any = mutated
        try:
            for step in where[:-1]:
                target = target[step]
            target[where[-1]] = copy.deepcopy(rng.choice(JUNK))
        except (KeyError, IndexError, TypeError):
            continue
    return mutated


class _Refusing:
    """No test leaves loopback: every call of these documents is refused."""

    async def request(self, method: str, url: str, **_: Any) -> HttpResponse:
        raise TransportError("refused by the test transport")

    async def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def seeds() -> list[dict[str, Any]]:
    found = _seeds()
    if not found:
        pytest.skip(f"the spec's examples are not available at {SPEC}")
    return found


async def test_mutated_documents_either_compile_or_report_problems_and_runs_never_raise(
    seeds: list[dict[str, Any]],
) -> None:
    rng = random.Random(20261124)
    compiled = faulted = refused = explained = 0
    async with RunEnvironment(transport=_Refusing(), clock=FakeClock()) as env:
        for _ in range(600):
            document = _mutate(rng.choice(seeds), rng)
            try:
                workflow = compile_workflow(document, catalog=Catalog(), limits=Limits(max_steps=100))
            except CompileError as exc:
                refused += 1
                explained += bool(exc.problems)
                continue
            compiled += 1
            handle = workflow.start(copy.deepcopy(rng.choice(INPUTS)), env=env)
            try:
                # A `listen` waits for events nobody sends; such runs are cancelled.
                result = await asyncio.wait_for(asyncio.shield(handle.result()), 0.5)
            except TimeoutError:
                handle.cancel()
                result = await handle.result()
            assert result.status in ("completed", "faulted", "cancelled")
            if result.error is not None:
                faulted += 1
                assert "unexpected" not in (result.error.detail or ""), (result.error, document)
    assert compiled > 100
    assert faulted > 10
    assert refused > 100
    assert explained == refused  # every refusal lists its problems


async def test_a_lone_surrogate_in_the_input_is_measured_and_carried_not_a_crash(env: RunEnvironment) -> None:
    compiled = compile_workflow(
        {"document": _META, "do": [{"keep": {"set": {"kept": "${ . }"}}}]},
    )
    result = await compiled.run("\ud800", env=env)
    assert result.status == "completed", result.error
    assert result.output == {"kept": "\ud800"}


async def test_a_text_body_that_is_not_unicode_faults_the_call_by_name(env: RunEnvironment) -> None:
    compiled = compile_workflow(
        {
            "document": _META,
            "do": [
                {
                    "send": {
                        "call": "http",
                        "with": {"method": "post", "endpoint": "http://127.0.0.1:9/", "body": "${ . }"},
                    }
                }
            ],
        }
    )
    result = await compiled.run("\ud800", env=env)
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.instance == "/do/0/send"
    assert "call body cannot be written in utf-8: " in (result.error.detail or "")


async def test_an_input_nested_past_the_stack_is_a_limit_not_a_crash(env: RunEnvironment) -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    compiled = compile_workflow({"document": _META, "do": [{"keep": {"set": {"ok": True}}}]})
    result = await compiled.run(deep, env=env)
    assert result.status == "faulted"
    assert result.error is not None
    assert (result.error.title, result.error.instance) == ("Payload too deep", "/input")


_META = {"dsl": "1.0.3", "namespace": "test", "name": "robust", "version": "1.0.0"}
