"""try/catch and retries (fake time), timeouts and cancellation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web

from baton.engine import FakeClock, Limits, RunEnvironment, compile_workflow
from tests.engine._support import Upstream, document, run, upstream


def _flaky(failures: int, status: int = 503) -> Any:
    calls = {"n": 0}

    async def handler(request: web.Request) -> web.Response:
        calls["n"] += 1
        if calls["n"] <= failures:
            return web.json_response({"error": "busy"}, status=status)
        return web.json_response({"ok": True, "calls": calls["n"]})

    return handler


def _get(url: str) -> dict[str, Any]:
    return {"call": "http", "with": {"method": "get", "endpoint": url}}


def _try(url: str, catch: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"attempt": {"try": [{"getThing": _get(url)}], "catch": catch}}]


async def test_a_caught_error_runs_the_handler_with_the_error_bound_under_its_name(
    env: RunEnvironment,
) -> None:
    async with upstream({("GET", "/x"): _flaky(99, status=404)}) as up:
        result = await run(
            _try(
                up.url("/x"),
                {
                    "errors": {
                        "with": {
                            "type": "https://serverlessworkflow.io/dsl/errors/types/communication",
                            "status": 404,
                        }
                    },
                    "as": "err",
                    "do": [{"setError": {"set": {"error": "${ $err }"}}}],
                },
            ),
            env=env,
        )
    assert result.status == "completed", result.error
    error = result.output["error"]
    assert error["status"] == 404
    assert error["instance"] == "/do/0/attempt/try/0/getThing"
    assert error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/communication"


async def test_an_error_the_filter_does_not_match_faults_the_run(env: RunEnvironment) -> None:
    async with upstream({("GET", "/x"): _flaky(99, status=404)}) as up:
        result = await run(_try(up.url("/x"), {"errors": {"with": {"status": 503}}}), env=env)
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.status == 404


async def test_catch_when_and_except_when_decide_on_the_error(env: RunEnvironment) -> None:
    async with upstream({("GET", "/x"): _flaky(99, status=418)}) as up:
        caught = await run(_try(up.url("/x"), {"when": "${ .status == 418 }"}), {"in": 1}, env=env)
        excepted = await run(_try(up.url("/x"), {"exceptWhen": "${ $error.status == 418 }"}), env=env)
    assert caught.status == "completed"
    assert caught.output == {"in": 1}
    assert excepted.status == "faulted"


async def _retry_run(up: Upstream, env: RunEnvironment, retry: Any, **top: Any) -> Any:
    return await run(
        _try(up.url("/x"), {"errors": {"with": {"status": 503}}, "retry": retry}), env=env, **top
    )


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [("constant", [2.0, 2.0, 2.0]), ("linear", [2.0, 4.0, 6.0]), ("exponential", [2.0, 4.0, 8.0])],
)
async def test_retries_back_off_on_the_clock_until_success(
    fake_env: RunEnvironment, clock: FakeClock, backoff: str, delays: list[float]
) -> None:
    async with upstream({("GET", "/x"): _flaky(3)}) as up:
        retry = {"delay": {"seconds": 2}, "backoff": {backoff: {}}, "limit": {"attempt": {"count": 5}}}
        result = await _retry_run(up, fake_env, retry)
    assert result.status == "completed", result.error
    assert result.output == {"ok": True, "calls": 4}
    assert clock.sleeps == delays
    assert result.timeline.find("attempt")[0].attempts == 4


async def test_retries_stop_at_the_attempt_count_and_the_error_faults_the_run(
    fake_env: RunEnvironment, clock: FakeClock
) -> None:
    async with upstream({("GET", "/x"): _flaky(99)}) as up:
        result = await _retry_run(up, fake_env, {"delay": {"seconds": 1}, "limit": {"attempt": {"count": 2}}})
        assert up.hits("/x") == 3
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.status == 503
    assert clock.sleeps == [1.0, 1.0]


async def test_an_unlimited_exponential_retry_of_a_lasting_error_ends_in_the_step_budget(
    fake_env: RunEnvironment,
) -> None:
    boom = {"boom": {"raise": {"error": {"type": "https://example.com/down", "status": 503}}}}
    result = await run(
        [{"again": {"try": [boom], "catch": {"retry": {"backoff": {"exponential": {}}}}}}],
        env=fake_env,
        limits=Limits(max_steps=3000),
    )
    assert result.error is not None
    assert (result.error.title, result.error.instance) == ("Step budget exhausted", "/do/0/again")


async def test_retries_stop_when_the_next_would_start_past_the_duration_limit(
    fake_env: RunEnvironment, clock: FakeClock
) -> None:
    async with upstream({("GET", "/x"): _flaky(99)}) as up:
        retry = {
            "delay": {"seconds": 10},
            "backoff": {"exponential": {}},
            "limit": {"duration": {"seconds": 35}},
        }
        result = await _retry_run(up, fake_env, retry)
    assert result.status == "faulted"
    assert clock.sleeps == [10.0, 20.0]


async def test_jitter_adds_a_bounded_random_delay(fake_env: RunEnvironment, clock: FakeClock) -> None:
    async with upstream({("GET", "/x"): _flaky(3)}) as up:
        retry = {
            "delay": {"seconds": 1},
            "jitter": {"from": {"milliseconds": 100}, "to": {"milliseconds": 500}},
            "limit": {"attempt": {"count": 5}},
        }
        await _retry_run(up, fake_env, retry)
    assert len(clock.sleeps) == 3
    assert all(1.1 <= s <= 1.5 for s in clock.sleeps)


async def test_retry_policies_can_be_reused_from_use_retries(
    fake_env: RunEnvironment, clock: FakeClock
) -> None:
    async with upstream({("GET", "/x"): _flaky(1)}) as up:
        result = await _retry_run(
            up,
            fake_env,
            "quick",
            use={"retries": {"quick": {"delay": {"milliseconds": 250}, "limit": {"attempt": {"count": 1}}}}},
        )
    assert result.status == "completed"
    assert clock.sleeps == [0.25]


async def test_exhausted_retries_fall_back_to_the_catch_handler(fake_env: RunEnvironment) -> None:
    async with upstream({("GET", "/x"): _flaky(99)}) as up:
        result = await run(
            _try(
                up.url("/x"),
                {
                    "errors": {"with": {"status": 503}},
                    "retry": {"limit": {"attempt": {"count": 1}}},
                    "do": [{"fallback": {"set": {"cached": True}}}],
                },
            ),
            env=fake_env,
        )
    assert result.output == {"cached": True}


async def test_a_task_timeout_faults_with_a_timeout_error(fake_env: RunEnvironment) -> None:
    result = await run(
        [{"slow": {"wait": {"seconds": 60}, "timeout": {"after": {"seconds": 30}}}}], env=fake_env
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type == "https://serverlessworkflow.io/spec/1.0.0/errors/timeout"
    assert result.error.status == 408
    assert result.error.instance == "/do/0/slow"


async def test_the_workflow_timeout_bounds_the_whole_run(fake_env: RunEnvironment) -> None:
    result = await run(
        [{"a": {"wait": "PT20S"}}, {"b": {"wait": "PT20S"}}],
        env=fake_env,
        timeout={"after": {"seconds": 30}},
    )
    assert result.error is not None
    assert result.error.status == 408
    assert result.error.title == "Workflow timed out"
    assert result.timeline.find("b")[0].status == "cancelled"


async def test_timeouts_can_be_named_in_use_timeouts(fake_env: RunEnvironment) -> None:
    result = await run(
        [{"slow": {"wait": "PT1M", "timeout": "short"}}],
        env=fake_env,
        use={"timeouts": {"short": {"after": "PT5S"}}},
    )
    assert result.error is not None
    assert result.error.status == 408


async def test_a_timeout_caught_by_try_is_handled_like_any_error(fake_env: RunEnvironment) -> None:
    result = await run(
        [
            {
                "guarded": {
                    "try": [{"slow": {"wait": "PT1M", "timeout": {"after": "PT1S"}}}],
                    "catch": {"errors": {"with": {"status": 408}}, "do": [{"late": {"set": {"late": True}}}]},
                }
            }
        ],
        env=fake_env,
    )
    assert result.output == {"late": True}


async def test_a_slow_call_is_cut_by_the_run_deadline(env: RunEnvironment) -> None:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.Event().wait()  # answers only by being cancelled
        return web.json_response({})

    async with upstream({("GET", "/hang"): hang}) as up:
        workflow = compile_workflow(document([{"call": _get(up.url("/hang"))}]))
        started = time.monotonic()
        result = await workflow.run(None, env=env, deadline=env.clock.monotonic() + 0.3)
    assert time.monotonic() - started < 3
    assert result.error is not None
    assert result.error.status == 408


async def test_cancelling_a_run_stops_its_in_flight_call(env: RunEnvironment) -> None:
    reached = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        reached.set()
        await asyncio.Event().wait()  # answers only by being cancelled
        return web.json_response({})

    async with upstream({("GET", "/hang"): hang}) as up:
        workflow = compile_workflow(document([{"call": _get(up.url("/hang"))}, {"after": {"set": {}}}]))
        started = time.monotonic()
        handle = workflow.start(None, env=env)
        await asyncio.wait_for(reached.wait(), 5)
        handle.cancel()
        result = await handle.result()
    assert time.monotonic() - started < 3
    assert result.status == "cancelled"
    assert result.error is None
    assert [(r.name, r.status) for r in result.timeline] == [("call", "cancelled")]


async def test_cancelling_a_run_stops_its_timers(env: RunEnvironment) -> None:
    waiting = _Started("pause")
    workflow = compile_workflow(document([{"pause": {"wait": "PT1H"}}]))
    handle = workflow.start(None, env=env, observers=[waiting])
    await asyncio.wait_for(waiting.wait(), 5)
    handle.cancel()
    result = await asyncio.wait_for(handle.result(), 2)
    assert result.status == "cancelled"


async def test_a_run_cancelled_before_it_starts_reports_cancelled(env: RunEnvironment) -> None:
    handle = compile_workflow(document([{"a": {"set": {}}}])).start(None, env=env)
    handle.cancel()
    result = await handle.result()
    assert result.status == "cancelled"
    assert len(result.timeline) == 0


async def test_a_task_timeout_on_the_real_clock_cuts_a_hanging_call(env: RunEnvironment) -> None:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.Event().wait()  # answers only by being cancelled
        return web.json_response({})

    async with upstream({("GET", "/hang"): hang}) as up:
        started = time.monotonic()
        result = await run(
            [{"slowCall": {**_get(up.url("/hang")), "timeout": {"after": {"milliseconds": 200}}}}], env=env
        )
    assert time.monotonic() - started < 3
    assert result.error is not None
    assert result.error.status == 408
    assert result.error.instance == "/do/0/slowCall"


class _Started:
    """A run observer that says when the task named ``name`` has started."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._started = asyncio.Event()

    def on_task_start(self, record: Any) -> None:
        if record.name == self.name:
            self._started.set()

    async def wait(self) -> None:
        await self._started.wait()
