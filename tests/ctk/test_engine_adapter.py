"""The adapter between kit scenarios and the engine: loopback only, unsupported kinds skipped."""

import pytest

from tests.ctk._engine import Unsupported, execute
from tests.ctk._steps import Plan
from tests.ctk.standins import serve_standins

HEAD = "document: {dsl: '1.0.3', namespace: t, name: t, version: '1.0.0'}\n"


def plan(body: str, data: object = None) -> Plan:
    return Plan(definition=HEAD + body, input=data, executed=True)


async def test_a_host_without_a_stand_in_is_refused_before_any_connection() -> None:
    body = "do:\n  - out:\n      call: http\n      with: {method: get, endpoint: 'https://example.com/'}\n"
    async with serve_standins() as hosts:
        outcome = await execute(plan(body), origin="t", host_map=hosts)
    assert outcome.status == "faulted"
    assert outcome.error is not None
    assert "never leave loopback" in outcome.error["detail"]


async def test_public_hosts_reach_their_stand_in_and_the_timeline_is_recorded() -> None:
    body = (
        "do:\n  - getPet:\n      call: http\n"
        "      with: {method: get, endpoint: 'https://petstore.swagger.io/v2/pet/{petId}'}\n"
    )
    async with serve_standins() as hosts:
        outcome = await execute(plan(body, {"petId": 2}), origin="t", host_map=hosts)
    assert outcome.status == "completed"
    assert outcome.output["name"] == "kitty"
    assert [(t.name, t.path, t.status) for t in outcome.tasks] == [("getPet", "/do/0/getPet", "completed")]


async def test_a_task_kind_baton_does_not_run_is_reported_unsupported() -> None:
    body = "do:\n  - sh:\n      run:\n        shell: {command: 'echo hi'}\n"
    with pytest.raises(Unsupported, match=r"do\[0\]\.sh"):
        await execute(plan(body), origin="t", host_map={})
