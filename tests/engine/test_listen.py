"""``listen`` on the environment's in-process events, fed by ``emit`` in a concurrent branch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from baton.engine import (
    CompileError,
    FakeClock,
    InMemoryEventSink,
    RunEnvironment,
    Subscription,
    compile_workflow,
)
from tests.engine._support import document, run


def _emit(name: str, type_: str, data: Any) -> dict[str, Any]:
    return {name: {"emit": {"event": {"with": {"source": "https://test", "type": type_, "data": data}}}}}


def _listen_and_emit(to: dict[str, Any], emits: list[dict[str, Any]], **listen: Any) -> list[dict[str, Any]]:
    return [
        {
            "both": {
                "fork": {
                    "branches": [
                        {"wait": {"listen": {"to": to, **listen}}},
                        {"send": {"do": [{"settle": {"wait": {"milliseconds": 1}}}, *emits]}},
                    ]
                },
                "output": {"as": "${ .[0] }"},
            }
        }
    ]


async def test_listen_one_takes_the_first_event_matching_its_filter(env: RunEnvironment) -> None:
    result = await run(
        _listen_and_emit(
            {"one": {"with": {"type": "com.example.order.placed"}}},
            [
                _emit("noise", "com.example.other", {"n": 0}),
                _emit("order", "com.example.order.placed", {"n": 1}),
            ],
        ),
        env=env,
    )
    assert result.status == "completed", result.error
    assert result.output == [{"n": 1}]
    assert result.timeline.find("wait")[0].decision == {"events": 1}


async def test_listen_all_waits_for_every_filter_and_keeps_arrival_order(env: RunEnvironment) -> None:
    result = await run(
        _listen_and_emit(
            {"all": [{"with": {"type": "com.example.b"}}, {"with": {"type": "com.example.a"}}]},
            [
                _emit("a", "com.example.a", "A"),
                _emit("a2", "com.example.a", "A2"),
                _emit("b", "com.example.b", "B"),
            ],
        ),
        env=env,
    )
    assert result.output == ["A", "B"]


async def test_listen_filters_with_patterns_and_data_expressions(env: RunEnvironment) -> None:
    result = await run(
        _listen_and_emit(
            {
                "any": [
                    {"with": {"type": r"com\.hospital\.vitals\..*", "data": "${ .temperature > 38 }"}},
                ]
            },
            [
                _emit("normal", "com.hospital.vitals.temperature", {"temperature": 37}),
                _emit("fever", "com.hospital.vitals.temperature", {"temperature": 39}),
            ],
            read="envelope",
        ),
        env=env,
    )
    (event,) = result.output
    assert event["data"] == {"temperature": 39}
    assert event["specversion"] == "1.0"


async def test_listen_any_until_an_expression_holds_on_the_events_so_far(env: RunEnvironment) -> None:
    result = await run(
        _listen_and_emit(
            {"any": [], "until": "${ (map(.n) | add) >= 3 }"},
            [_emit(f"e{n}", "com.example.tick", {"n": n}) for n in (1, 1, 2, 5)],
        ),
        env=env,
    )
    assert result.output == [{"n": 1}, {"n": 1}, {"n": 2}]


async def test_listen_any_until_a_stop_event_excludes_the_stop_event(env: RunEnvironment) -> None:
    result = await run(
        _listen_and_emit(
            {
                "any": [{"with": {"type": "com.example.item"}}],
                "until": {"one": {"with": {"type": "com.example.done"}}},
            },
            [
                _emit("i1", "com.example.item", 1),
                _emit("i2", "com.example.item", 2),
                _emit("done", "com.example.done", None),
                _emit("late", "com.example.item", 3),
            ],
        ),
        env=env,
    )
    assert result.output == [1, 2]


async def test_a_listen_without_events_is_cut_by_its_timeout() -> None:
    # Virtual time advances when something sleeps on the fake clock: the second branch does.
    listen = {"listen": {"to": {"one": {"with": {"type": "never"}}}}, "timeout": {"after": "PT5S"}}
    async with RunEnvironment(clock=FakeClock(), events=InMemoryEventSink()) as env:
        result = await asyncio.wait_for(
            run([{"both": {"fork": {"branches": [{"wait": listen}, {"tick": {"wait": "PT10S"}}]}}}], env=env),
            10,
        )
    assert result.error is not None
    assert result.error.status == 408
    assert result.error.instance == "/do/0/both/fork/branches/0/wait"


class _WatchedSink(InMemoryEventSink):
    """Says when a listen has subscribed: the sink does not replay, so publishing before that
    would lose the event."""

    def __init__(self) -> None:
        super().__init__()
        self.subscribed = asyncio.Event()

    def subscribe(self) -> Subscription:
        subscription = super().subscribe()
        self.subscribed.set()
        return subscription


async def test_an_event_published_from_outside_the_run_is_received() -> None:
    sink = _WatchedSink()
    workflow = compile_workflow(
        document([{"wait": {"listen": {"to": {"one": {"with": {"type": "com.example.ping"}}}}}}])
    )
    async with RunEnvironment(events=sink) as env:
        handle = workflow.start(None, env=env)
        await asyncio.wait_for(sink.subscribed.wait(), 5)
        await sink.publish(
            {"specversion": "1.0", "id": "1", "source": "test", "type": "com.example.ping", "data": {"p": 1}}
        )
        result = await asyncio.wait_for(handle.result(), 5)
    assert result.output == [{"p": 1}]


def test_listen_features_not_built_yet_do_not_compile() -> None:
    with pytest.raises(CompileError, match="correlation is not supported") as caught:
        compile_workflow(
            document(
                [
                    {
                        "wait": {
                            "listen": {
                                "to": {"one": {"with": {"type": "x"}, "correlate": {"id": {"from": ".id"}}}}
                            },
                            "foreach": {"do": [{"x": {"set": {}}}]},
                        }
                    }
                ]
            )
        )
    assert "do[0].wait.foreach" in [path for path, _ in caught.value.problems]
