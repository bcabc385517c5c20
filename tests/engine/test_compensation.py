"""Compensation (saga): reverse completion order, failures inside compensations recorded."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from baton.engine import CompileError, RunEnvironment, compile_workflow
from tests.engine._support import document, run, upstream


async def _book(request: web.Request) -> web.Response:
    return web.json_response({"booking": request.match_info["what"]}, status=201)


async def _cancel(request: web.Request) -> web.Response:
    if request.match_info["what"] == "car":
        return web.json_response({"error": "cannot cancel"}, status=500)
    return web.Response(status=204)


def _saga(url: str, *, fail_at_end: bool = True) -> dict[str, Any]:
    def book(what: str) -> dict[str, Any]:
        return {
            f"book_{what}": {
                "call": "http",
                "with": {"method": "post", "endpoint": f"{url}/book/{what}"},
                "metadata": {"baton.compensateBy": "cancelBooking"},
            }
        }

    tasks = [book("hotel"), book("car"), book("flight")]
    if fail_at_end:
        tasks.append(
            {"pay": {"raise": {"error": {"type": "https://example.com/payment-declined", "status": 402}}}}
        )
    return document(
        tasks,
        use={
            "functions": {
                "cancelBooking": {
                    "call": "http",
                    "with": {"method": "delete", "endpoint": '${ "' + url + '/book/" + .booking }'},
                }
            }
        },
    )


async def test_a_faulted_run_compensates_completed_tasks_in_reverse_completion_order(
    env: RunEnvironment,
) -> None:
    async with upstream({("POST", "/book/{what}"): _book, ("DELETE", "/book/{what}"): _cancel}) as up:
        result = await compile_workflow(_saga(up.url(""))).run({}, env=env)
        deletes = [r["path"] for r in up.requests if r["method"] == "DELETE"]
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.status == 402
    assert deletes == ["/book/flight", "/book/car", "/book/hotel"]
    assert [c.compensated for c in result.compensations] == [
        "/do/2/book_flight",
        "/do/1/book_car",
        "/do/0/book_hotel",
    ]


async def test_a_failing_compensation_is_recorded_and_the_others_still_run(env: RunEnvironment) -> None:
    async with upstream({("POST", "/book/{what}"): _book, ("DELETE", "/book/{what}"): _cancel}) as up:
        result = await compile_workflow(_saga(up.url(""))).run({}, env=env)
    outcomes = {c.compensated: (c.status, c.error) for c in result.compensations}
    assert outcomes["/do/2/book_flight"] == ("completed", None)
    status, error = outcomes["/do/1/book_car"]
    assert status == "faulted"
    assert error is not None
    assert error["status"] == 500
    assert outcomes["/do/0/book_hotel"][0] == "completed"
    assert result.to_dict()["compensations"][1]["status"] == "faulted"
    assert result.error is not None
    assert result.error.status == 402


async def test_a_completed_run_compensates_nothing(env: RunEnvironment) -> None:
    async with upstream({("POST", "/book/{what}"): _book, ("DELETE", "/book/{what}"): _cancel}) as up:
        result = await compile_workflow(_saga(up.url(""), fail_at_end=False)).run({}, env=env)
        assert not [r for r in up.requests if r["method"] == "DELETE"]
    assert result.status == "completed"
    assert result.compensations == []


async def test_the_compensating_task_sees_what_it_undoes(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "reserve": {
                    "set": {"id": "r-1"},
                    "metadata": {
                        "baton.compensateBy": {
                            "release": {
                                "set": {
                                    "released": "${ .id }",
                                    "task": "${ $compensation.task }",
                                    "why": "${ $compensation.error.status }",
                                }
                            }
                        }
                    },
                }
            },
            {"boom": {"raise": {"error": {"type": "https://example.com/boom", "status": 500}}}},
        ],
        env=env,
    )
    (compensation,) = result.compensations
    assert compensation.handler == "release"
    assert compensation.output == {"released": "r-1", "task": "reserve", "why": 500}


async def test_only_tasks_that_completed_are_compensated(env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "done": {
                    "set": {"a": 1},
                    "metadata": {"baton.compensateBy": {"undo": {"set": {"undone": "done"}}}},
                }
            },
            {
                "skipped": {
                    "if": "${ false }",
                    "set": {},
                    "metadata": {"baton.compensateBy": {"u2": {"set": {}}}},
                }
            },
            {"boom": {"raise": {"error": {"type": "https://example.com/boom", "status": 500}}}},
        ],
        env=env,
    )
    assert [c.compensated for c in result.compensations] == ["/do/0/done"]


def test_an_unknown_compensating_function_does_not_compile() -> None:
    with pytest.raises(CompileError, match=r"'nope' is not defined in use\.functions"):
        compile_workflow(document([{"a": {"set": {}, "metadata": {"baton.compensateBy": "nope"}}}]))


async def test_a_run_stopped_by_its_step_budget_is_still_compensated(env: RunEnvironment) -> None:
    from baton.engine import Limits

    result = await run(
        [
            {
                "hold": {
                    "set": {"h": 1},
                    "metadata": {"baton.compensateBy": {"release": {"set": {"released": True}}}},
                }
            },
            {"spin": {"set": {"h": 1}, "then": "spin"}},
        ],
        env=env,
        limits=Limits(max_steps=10),
    )
    assert result.error is not None
    assert result.error.title == "Step budget exhausted"
    (compensation,) = result.compensations
    assert (compensation.status, compensation.output) == ("completed", {"released": True})
