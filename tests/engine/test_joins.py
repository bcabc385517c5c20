"""Fork joins: all / any (compete) / quorum, deterministic output order, loser cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from baton.engine import CompileError, Limits, RunEnvironment, compile_workflow
from tests.engine._support import document, run, upstream


class _Order:
    """An upstream whose branches answer in a chosen order, whatever the scheduler does.

    Branch ``order[i]`` answers once the engine has *completed* branch ``order[i - 1]`` (it is
    also a run observer), so completion order is forced by events, not by sleeps; a branch not
    in ``order`` never answers, and so can only end by being cancelled.
    """

    def __init__(self, *order: str) -> None:
        self.order = order
        self.completed = {name: asyncio.Event() for name in order}

    async def answer(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.order:
            await asyncio.Event().wait()
        index = self.order.index(name)
        if index:
            await self.completed[self.order[index - 1]].wait()
        return web.json_response({"branch": name})

    def on_task_end(self, record: Any) -> None:
        if record.status == "completed" and record.name in self.completed:
            self.completed[record.name].set()


def _branch(name: str, url: str) -> dict[str, Any]:
    return {name: {"call": "http", "with": {"method": "get", "endpoint": f"{url}/{name}"}}}


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"branch": request.match_info["name"]})


def _fail(name: str) -> dict[str, Any]:
    return {name: {"raise": {"error": {"type": "https://example.com/broken", "status": 502}}}}


async def test_join_all_orders_output_by_declaration_not_completion(env: RunEnvironment) -> None:
    order = _Order("fast", "mid", "slow")
    async with upstream({("GET", "/b/{name}"): order.answer}) as up:
        base = up.url("/b")
        result = await run(
            [
                {
                    "fan": {
                        "fork": {
                            "branches": [_branch("slow", base), _branch("fast", base), _branch("mid", base)]
                        }
                    }
                }
            ],
            env=env,
            observers=[order],
        )
    assert result.status == "completed", result.error
    assert result.output == [{"branch": "slow"}, {"branch": "fast"}, {"branch": "mid"}]
    ended = {r.name: r.ended_at for r in result.timeline if r.parent == "/do/0/fan"}
    assert ended["fast"] < ended["mid"] < ended["slow"]  # completion order really was shuffled
    assert result.timeline.find("fan")[0].decision == {
        "join": "all",
        "winners": ["slow", "fast", "mid"],
        "failed": [],
        "cancelled": [],
    }


async def test_join_all_faults_on_the_first_failure_and_cancels_the_rest(env: RunEnvironment) -> None:
    async with upstream({("GET", "/b/{name}"): _Order().answer}) as up:
        fan = run(
            [{"fan": {"fork": {"branches": [_branch("slow", up.url("/b")), _fail("broken")]}}}], env=env
        )
        result = await asyncio.wait_for(fan, 30)  # "slow" never answers: only a cancel ends it
    assert result.error is not None
    assert result.error.status == 502
    assert result.timeline.find("slow")[0].status == "cancelled"


async def test_join_any_takes_the_first_success_and_cancels_the_losers(env: RunEnvironment) -> None:
    async with upstream({("GET", "/b/{name}"): _Order("hare").answer}) as up:
        base = up.url("/b")
        race = run(
            [
                {
                    "race": {
                        "fork": {
                            "branches": [
                                _branch("tortoise", base),
                                _fail("broken"),
                                _branch("hare", base),
                            ]
                        },
                        "metadata": {"baton.join": "any"},
                    }
                }
            ],
            env=env,
        )
        result = await asyncio.wait_for(race, 30)  # "tortoise" never answers: only a cancel ends it
    assert result.output == {"branch": "hare"}
    assert result.timeline.find("tortoise")[0].status == "cancelled"
    decision = result.timeline.find("race")[0].decision
    assert decision == {"join": "any", "winners": ["hare"], "failed": ["broken"], "cancelled": ["tortoise"]}


async def test_fork_compete_is_the_any_join(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "branchWithCompete": {
                    "fork": {
                        "compete": True,
                        "branches": [
                            {"setRed": {"set": {"colors": '${ .colors + ["red"] }'}}},
                            {"setGreen": {"set": {"colors": '${ .colors + ["green"] }'}}},
                        ],
                    }
                }
            }
        ],
        env=env,
    )
    assert len(result.output["colors"]) == 1


async def test_join_any_with_every_branch_failing_raises_the_first_declared_error(
    env: RunEnvironment,
) -> None:
    result = await run(
        [
            {
                "race": {
                    "fork": {
                        "compete": True,
                        "branches": [
                            {"a": {"raise": {"error": {"type": "https://example.com/a", "status": 501}}}},
                            {"b": {"raise": {"error": {"type": "https://example.com/b", "status": 502}}}},
                        ],
                    }
                }
            }
        ],
        env=env,
    )
    assert result.error is not None
    assert result.error.status == 501


async def test_join_quorum_takes_n_successes_in_declaration_order(env: RunEnvironment) -> None:
    order = _Order("first", "second")
    async with upstream({("GET", "/b/{name}"): order.answer}) as up:
        base = up.url("/b")
        result = await run(
            [
                {
                    "vote": {
                        "fork": {
                            "branches": [
                                _branch("late", base),
                                _branch("second", base),
                                _fail("broken"),
                                _branch("first", base),
                            ]
                        },
                        "metadata": {"baton.join": "quorum", "baton.quorum": 2},
                    }
                }
            ],
            env=env,
            observers=[order],
        )
    assert result.status == "completed", result.error
    assert result.output == [{"branch": "second"}, {"branch": "first"}]
    assert result.timeline.find("late")[0].status == "cancelled"
    decision = result.timeline.find("vote")[0].decision
    assert decision is not None
    assert decision["winners"] == ["second", "first"]
    assert decision["join"] == "quorum 2"


async def test_a_quorum_that_cannot_be_reached_faults_naming_the_failures(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "vote": {
                    "fork": {"branches": [_fail("a"), _fail("b"), {"ok": {"set": {"v": 1}}}]},
                    "metadata": {"baton.join": "quorum", "baton.quorum": 2},
                }
            }
        ],
        env=env,
    )
    assert result.error is not None
    assert result.error.title == "Fork join failed"
    assert "a: " in (result.error.detail or "")


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"baton.join": "most"}, "must be one of all, any, quorum"),
        ({"baton.join": "quorum"}, "baton.quorum must be an integer"),
        ({"baton.join": "quorum", "baton.quorum": 5}, r"from 1 to the number of branches \(2\)"),
    ],
)
def test_bad_join_settings_are_compile_errors_at_the_fork(metadata: dict[str, Any], message: str) -> None:
    with pytest.raises(CompileError, match=message) as caught:
        compile_workflow(
            document(
                [
                    {
                        "f": {
                            "fork": {"branches": [{"a": {"set": {}}}, {"b": {"set": {}}}]},
                            "metadata": metadata,
                        }
                    }
                ]
            )
        )
    assert caught.value.problems[0][0] == "do[0].f.metadata"


def test_a_fork_wider_than_the_limit_does_not_compile() -> None:
    branches = [{f"b{i}": {"set": {}}} for i in range(5)]
    with pytest.raises(CompileError, match=r"Limits\.max_fork_width"):
        compile_workflow(document([{"f": {"fork": {"branches": branches}}}]), limits=Limits(max_fork_width=4))


async def test_many_concurrent_runs_share_one_environment_without_mixing_their_data(
    env: RunEnvironment,
) -> None:
    async with upstream({("GET", "/b/{name}"): _echo}) as up:
        base = up.url("/b")
        workflow = compile_workflow(
            document(
                [
                    {"fan": {"fork": {"branches": [_branch("x", base), _branch("y", base)]}}},
                    {"tag": {"set": {"run": "${ $workflow.input.n }", "branches": "${ [.[].branch] }"}}},
                ]
            )
        )
        results = await asyncio.gather(*(workflow.run({"n": n}, env=env) for n in range(20)))
    assert [r.output for r in results] == [{"run": n, "branches": ["x", "y"]} for n in range(20)]
    assert len({r.run_id for r in results}) == 20
