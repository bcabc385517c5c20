"""Run observers: the hooks the server's tracing and metrics hang on."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from baton.engine import (
    CallInfo,
    CallOutcome,
    RunEnvironment,
    RunInfo,
    RunResult,
    TaskRecord,
    compile_workflow,
)
from tests.engine._support import document, upstream


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_run_start(self, run: RunInfo) -> None:
        self.events.append(("run_start", run.name))

    def on_task_start(self, record: TaskRecord) -> None:
        self.events.append(("task_start", record.path))

    def on_task_end(self, record: TaskRecord) -> None:
        self.events.append(("task_end", (record.path, record.status)))

    def on_call_start(self, call: CallInfo) -> object:
        call.headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        self.events.append(("call_start", call.method))
        return "handle-1"

    def on_call_end(self, handle: object, outcome: CallOutcome) -> None:
        self.events.append(("call_end", (handle, outcome.status)))

    def on_run_end(self, result: RunResult) -> None:
        self.events.append(("run_end", result.status))


class Broken(Recorder):
    def on_task_start(self, record: TaskRecord) -> None:
        raise RuntimeError("observer bug")


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"traceparent": request.headers.get("traceparent")})


async def test_observers_see_run_task_and_call_events_and_may_add_call_headers(env: RunEnvironment) -> None:
    recorder = Recorder()
    async with upstream({("GET", "/e"): _echo}) as up:
        workflow = compile_workflow(
            document(
                [
                    {"prep": {"set": {}}},
                    {"get": {"call": "http", "with": {"method": "get", "endpoint": up.url("/e")}}},
                ]
            )
        )
        result = await workflow.run(None, env=env, observers=[recorder, Broken()])
    assert result.status == "completed"
    assert result.output["traceparent"].startswith("00-0af7")
    assert recorder.events == [
        ("run_start", "under-test"),
        ("task_start", "/do/0/prep"),
        ("task_end", ("/do/0/prep", "completed")),
        ("task_start", "/do/1/get"),
        ("call_start", "GET"),
        ("call_end", ("handle-1", 200)),
        ("task_end", ("/do/1/get", "completed")),
        ("run_end", "completed"),
    ]


async def _hang(request: web.Request) -> web.Response:
    await asyncio.Event().wait()  # answers only by being cancelled
    return web.json_response({})


def _hanging_call(url: str) -> dict[str, object]:
    return document([{"get": {"call": "http", "with": {"method": "get", "endpoint": url}}}])


async def test_a_call_cut_by_the_deadline_still_ends_for_observers(env: RunEnvironment) -> None:
    recorder = Recorder()
    async with upstream({("GET", "/hang"): _hang}) as up:
        workflow = compile_workflow(_hanging_call(up.url("/hang")))
        result = await workflow.run(None, env=env, observers=[recorder], deadline=env.clock.monotonic() + 0.2)
    assert result.error is not None
    assert result.error.status == 408
    assert [p for name, p in recorder.events if name == "call_end"] == [("handle-1", None)]
    assert ("task_end", ("/do/0/get", "faulted")) in recorder.events


async def test_a_call_of_a_cancelled_run_still_ends_for_observers(env: RunEnvironment) -> None:
    recorder = Recorder()
    reached = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        reached.set()
        return await _hang(request)

    async with upstream({("GET", "/hang"): hang}) as up:
        handle = compile_workflow(_hanging_call(up.url("/hang"))).start(None, env=env, observers=[recorder])
        await asyncio.wait_for(reached.wait(), 5)
        handle.cancel()
        result = await handle.result()
    assert result.status == "cancelled"
    assert [p for name, p in recorder.events if name == "call_end"] == [("handle-1", None)]
    assert recorder.events[-2:] == [("task_end", ("/do/0/get", "cancelled")), ("run_end", "cancelled")]


class CallsOnly:
    """Like the server's metrics observer: one hook, nothing else."""

    def __init__(self) -> None:
        self.ends: list[tuple[object, int | None]] = []

    def on_call_end(self, handle: object, outcome: CallOutcome) -> None:
        self.ends.append((handle, outcome.status))


class FailsAtCallStart(Recorder):
    def on_call_start(self, call: CallInfo) -> object:
        raise RuntimeError("observer bug")


async def test_each_observer_gets_its_own_hooks_and_handles_whatever_the_others_implement(
    env: RunEnvironment,
) -> None:
    calls_only, recorder, failing = CallsOnly(), Recorder(), FailsAtCallStart()
    async with upstream({("GET", "/e"): _echo}) as up:
        workflow = compile_workflow(
            document([{"get": {"call": "http", "with": {"method": "get", "endpoint": up.url("/e")}}}])
        )
        result = await workflow.run(None, env=env, observers=[calls_only, failing, recorder])
    assert result.status == "completed"
    # No on_call_start: its handle is None, never another observer's.
    assert calls_only.ends == [(None, 200)]
    assert ("call_end", ("handle-1", 200)) in recorder.events
    # The observer whose on_call_start failed still has its call closed, with no handle.
    assert ("call_end", (None, 200)) in failing.events
    assert [e[0] for e in recorder.events] == [
        "run_start", "task_start", "call_start", "call_end", "task_end", "run_end"
    ]  # fmt: skip


async def test_a_hook_set_on_the_observer_instance_is_called_like_a_method(env: RunEnvironment) -> None:
    class Plain:
        pass

    seen: list[str] = []
    watcher = Plain()
    watcher.on_task_end = lambda record: seen.append(record.path)  # type: ignore[attr-defined]
    workflow = compile_workflow(document([{"prep": {"set": {}}}]))
    # A plain instance of the same class first, so its (hook-less) class is cached.
    await workflow.run(None, env=env, observers=[Plain()])
    result = await workflow.run(None, env=env, observers=[watcher])
    assert result.status == "completed"
    assert seen == ["/do/0/prep"]
