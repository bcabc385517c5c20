"""Fork joins: all / any (compete) / quorum, deterministic output order, loser cancellation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web

from baton.engine import CompileError, Limits, RunEnvironment, compile_workflow
from tests.engine._support import document, run, upstream


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query["delay"]))
    return web.json_response({"branch": request.match_info["name"]})


def _branch(name: str, url: str, delay: float) -> dict[str, Any]:
    return {name: {"call": "http", "with": {"method": "get", "endpoint": f"{url}/{name}?delay={delay}"}}}


def _fail(name: str) -> dict[str, Any]:
    return {name: {"raise": {"error": {"type": "https://example.com/broken", "status": 502}}}}


async def test_join_all_orders_output_by_declaration_not_completion(env: RunEnvironment) -> None:
    async with upstream({("GET", "/b/{name}"): _slow}) as up:
        base = up.url("/b")
        result = await run(
            [
                {
                    "fan": {
                        "fork": {
                            "branches": [
                                _branch("slow", base, 0.15),
                                _branch("fast", base, 0.0),
                                _branch("mid", base, 0.05),
                            ]
                        }
                    }
                }
            ],
            env=env,
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
    async with upstream({("GET", "/b/{name}"): _slow}) as up:
        started = time.monotonic()
        result = await run(
            [{"fan": {"fork": {"branches": [_branch("slow", up.url("/b"), 10), _fail("broken")]}}}], env=env
        )
    assert time.monotonic() - started < 5
    assert result.error is not None
    assert result.error.status == 502
    assert result.timeline.find("slow")[0].status == "cancelled"


async def test_join_any_takes_the_first_success_and_cancels_the_losers(env: RunEnvironment) -> None:
    async with upstream({("GET", "/b/{name}"): _slow}) as up:
        base = up.url("/b")
        started = time.monotonic()
        result = await run(
            [
                {
                    "race": {
                        "fork": {
                            "branches": [
                                _branch("tortoise", base, 10),
                                _fail("broken"),
                                _branch("hare", base, 0.01),
                            ]
                        },
                        "metadata": {"baton.join": "any"},
                    }
                }
            ],
            env=env,
        )
    assert time.monotonic() - started < 5
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
    async with upstream({("GET", "/b/{name}"): _slow}) as up:
        base = up.url("/b")
        result = await run(
            [
                {
                    "vote": {
                        "fork": {
                            "branches": [
                                _branch("late", base, 10),
                                _branch("second", base, 0.08),
                                _fail("broken"),
                                _branch("first", base, 0.0),
                            ]
                        },
                        "metadata": {"baton.join": "quorum", "baton.quorum": 2},
                    }
                }
            ],
            env=env,
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
    async with upstream({("GET", "/b/{name}"): _slow}) as up:
        base = up.url("/b")
        workflow = compile_workflow(
            document(
                [
                    {"fan": {"fork": {"branches": [_branch("x", base, 0.01), _branch("y", base, 0.0)]}}},
                    {"tag": {"set": {"run": "${ $workflow.input.n }", "branches": "${ [.[].branch] }"}}},
                ]
            )
        )
        results = await asyncio.gather(*(workflow.run({"n": n}, env=env) for n in range(20)))
    assert [r.output for r in results] == [{"run": n, "branches": ["x", "y"]} for n in range(20)]
    assert len({r.run_id for r in results}) == 20
