"""Trace context, request ids and deadlines travel from the client to every upstream call."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest
from multidict import CIMultiDict

from baton.server.correlation import parse_tracestate
from tests.server._support import call, json_after, manifest, send, serving, upstream, write

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _three_calls(up_url: str) -> list[dict[str, object]]:
    return [
        {"a": call(up_url.replace("PATH", "a"))},
        {
            "both": {
                "fork": {
                    "branches": [
                        {"b": call(up_url.replace("PATH", "b"))},
                        {"c": call(up_url.replace("PATH", "c"))},
                    ]
                }
            }
        },
    ]


async def test_trace_context_and_request_id_reach_every_upstream_call_and_come_back(tmp_path: Path) -> None:
    routes = {f"/{name}": json_after(0, {}) for name in "abc"}
    async with upstream(routes) as up:
        write(tmp_path, "flow.yaml", manifest(_three_calls(up.url("/PATH"))))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            reply = await send(
                client,
                "POST",
                base + "/flow",
                json={},
                headers={"traceparent": TRACEPARENT, "tracestate": "vendor=x", "X-Request-ID": "req-42"},
            )
    assert reply.status == 200
    assert reply.headers["X-Request-ID"] == "req-42"
    assert len(up.requests) == 3
    for request in up.requests:
        assert request["headers"]["traceparent"] == TRACEPARENT  # tracing off: passed on as is
        assert request["headers"]["tracestate"] == "vendor=x"
        assert request["headers"]["X-Request-ID"] == "req-42"


async def test_a_request_id_is_made_up_when_absent_and_a_malformed_traceparent_is_dropped(
    tmp_path: Path,
) -> None:
    async with upstream({"/a": json_after(0, {})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"a": call(up.url("/a"))}]))
        async with serving([tmp_path]) as (server, base), aiohttp.ClientSession() as client:
            reply = await send(client, "POST", base + "/flow", json={}, headers={"traceparent": "garbage"})
            record = server.runs.get(reply.headers["X-Baton-Run-Id"])
    request_id = reply.headers["X-Request-ID"]
    assert len(request_id) == 32
    assert up.requests[0]["headers"]["X-Request-ID"] == request_id
    assert "traceparent" not in up.requests[0]["headers"]
    assert record is not None
    assert record.request_id == request_id


async def test_the_clients_deadline_is_the_upstreams_budget_and_ends_the_run_on_time(tmp_path: Path) -> None:
    async with upstream({"/fast": json_after(0, {}), "/slow": json_after(5.0, {})}) as up:
        write(
            tmp_path,
            "flow.yaml",
            manifest([{"fast": call(up.url("/fast"))}, {"slow": call(up.url("/slow"))}]),
        )
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            started = time.monotonic()
            reply = await send(
                client, "POST", base + "/flow", json={}, headers={"X-Baton-Deadline-Ms": "400"}
            )
            elapsed = time.monotonic() - started
            slow = up.seen("/slow")[0]
            # Baton gave up at its deadline: it is not waiting for the upstream's answer.
            assert "done" not in slow
    assert reply.status == 504
    assert reply.json()["type"].endswith("/timeout")
    assert elapsed < 2.0
    fast_budget = int(up.seen("/fast")[0]["headers"]["X-Baton-Deadline-Ms"])
    slow_budget = int(slow["headers"]["X-Baton-Deadline-Ms"])
    assert 0 < slow_budget <= fast_budget <= 400


async def test_the_workflows_own_timeout_is_a_budget_when_the_client_sends_none(tmp_path: Path) -> None:
    async with upstream({"/slow": json_after(5.0, {})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"slow": call(up.url("/slow"))}], timeoutSeconds=0.3))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            reply = await send(
                client, "POST", base + "/flow", json={}, headers={"X-Baton-Deadline-Ms": "60000"}
            )
    assert reply.status == 504
    assert 0 < int(up.seen("/slow")[0]["headers"]["X-Baton-Deadline-Ms"]) <= 300


@pytest.mark.parametrize(
    ("values", "propagated"),
    [
        (["vendor=x"], "vendor=x"),
        (["a=1,,b=2 ", "tenant@sys=3"], "a=1,b=2,tenant@sys=3"),  # several headers are one list
        (["a= spaced value"], "a= spaced value"),
        ([",".join(f"k{i}=v" for i in range(32))], ",".join(f"k{i}=v" for i in range(32))),
        ([",".join(f"k{i}=v" for i in range(33))], None),  # over 32 members
        (["Upper=1"], None),
        (["a=1,a=2"], None),  # a key twice
        (["a=b=c"], None),
        (["a=" + "x" * 257], None),
        (["ok=1", "bad key=2"], None),  # one bad member drops it all
        (["", " , "], None),
    ],
)
def test_tracestate_is_propagated_only_when_it_follows_the_w3c_format(
    values: list[str], propagated: str | None
) -> None:
    assert parse_tracestate(values) == propagated


async def test_a_malformed_tracestate_is_not_sent_on_and_several_headers_are_joined(tmp_path: Path) -> None:
    async with upstream({"/a": json_after(0, {})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"a": call(up.url("/a"))}]))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            bad = CIMultiDict(traceparent=TRACEPARENT, tracestate="x=" + "{}" * 3000)
            await send(client, "POST", base + "/flow", json={}, headers=bad)
            several = CIMultiDict(
                [("traceparent", TRACEPARENT), ("tracestate", "a=1"), ("tracestate", "b=2")]
            )
            await send(client, "POST", base + "/flow", json={}, headers=several)
    assert "tracestate" not in up.requests[0]["headers"]
    assert up.requests[0]["headers"]["traceparent"] == TRACEPARENT
    assert up.requests[1]["headers"]["tracestate"] == "a=1,b=2"
