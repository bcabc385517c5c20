"""Traces exported with the real OTLP exporter: run -> tasks -> calls, parents and attributes right.

The fast tier receives them in a real OTLP/HTTP receiver (tests/server/_otlp.py, protobuf decoded with
``opentelemetry-proto``); the plane tier finds the same tree in Jaeger.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from baton.server import Tracing, tracing_from_env
from tests.server._otlp import attributes_of, otlp_receiver
from tests.server._support import Upstream, call, json_after, manifest, send, serving, upstream, write

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


def _flow(up: Upstream) -> dict[str, Any]:
    return manifest(
        [
            {
                "gather": {
                    "fork": {
                        "branches": [
                            {"users": call(up.url("/users?token=SECRET"))},
                            {"orders": call(up.url("/orders"))},
                        ]
                    }
                }
            },
            {"decide": {"switch": [{"many": {"when": "${ length > 1 }", "then": "continue"}}]}},
        ],
        path="/checkout",
    )


async def _run_traced(tmp_path: Path, tracing: Tracing, up: Upstream) -> str:
    write(tmp_path, "flow.yaml", _flow(up))
    async with serving([tmp_path], tracing=tracing) as (_, base), aiohttp.ClientSession() as client:
        reply = await send(
            client,
            "POST",
            base + "/checkout",
            json={},
            headers={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"},
        )
    assert reply.status == 200
    return reply.headers["X-Baton-Run-Id"]


async def test_the_run_span_tree_reaches_a_real_otlp_receiver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        otlp_receiver() as receiver,
        upstream({"/users": json_after(0, {}), "/orders": json_after(0, {})}) as up,
    ):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{receiver.port}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_SERVICE_NAME", "baton-under-test")
        tracing = tracing_from_env()
        assert tracing is not None
        try:
            run_id = await _run_traced(tmp_path, tracing, up)  # stop() flushes the exporter
        finally:
            await asyncio.to_thread(tracing.shutdown)
    spans = {span.name: span for span in receiver.spans}
    assert set(receiver.services) == {"baton-under-test"}
    run = spans["POST /checkout"]
    assert run.trace_id.hex() == CLIENT_TRACE
    assert run.parent_span_id.hex() == CLIENT_SPAN
    assert run.kind == run.SPAN_KIND_SERVER
    run_attributes = attributes_of(run)
    assert run_attributes["baton.run_id"] == run_id
    assert run_attributes["baton.workflow"] == "under-test"
    assert run_attributes["http.response.status_code"] == 200
    for task in ("gather", "decide"):
        assert spans[task].parent_span_id == run.span_id, task
    assert attributes_of(spans["gather"])["baton.task.kind"] == "fork"
    assert "baton.task.decision" in attributes_of(spans["decide"])
    for task in ("users", "orders"):
        assert spans[task].parent_span_id == spans["gather"].span_id, task
        assert attributes_of(spans[task])["baton.task.kind"] == "call"
    calls = [span for span in receiver.spans if span.kind == span.SPAN_KIND_CLIENT]
    assert len(calls) == 2
    by_parent = {span.parent_span_id: span for span in calls}
    users_call = by_parent[spans["users"].span_id]
    attributes = attributes_of(users_call)
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 200
    assert attributes["url.full"] == up.url("/users")  # the query (and its token) never reaches a span
    assert all(span.trace_id.hex() == CLIENT_TRACE for span in receiver.spans)
    # Each upstream saw the context of the client span that called it.
    seen = up.seen("/users")[0]["headers"]["traceparent"]
    assert seen == f"00-{CLIENT_TRACE}-{users_call.span_id.hex()}-01"


@pytest.mark.plane
async def test_the_run_span_tree_is_found_in_jaeger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jaeger: Any
) -> None:
    service = f"baton-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", jaeger.otlp_http_endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_SERVICE_NAME", service)
    tracing = tracing_from_env()
    assert tracing is not None
    async with upstream({"/users": json_after(0, {}), "/orders": json_after(0, {})}) as up:
        try:
            run_id = await _run_traced(tmp_path, tracing, up)
        finally:
            await asyncio.to_thread(tracing.shutdown)
    trace = await asyncio.to_thread(jaeger.find_trace, service, operation="POST /checkout")
    assert trace["traceID"] == CLIENT_TRACE
    spans = {span["operationName"]: span for span in trace["spans"]}
    parent = {
        span["operationName"]: next(
            (r["spanID"] for r in span["references"] if r["refType"] == "CHILD_OF"), None
        )
        for span in trace["spans"]
    }
    run = spans["POST /checkout"]
    assert {tag["key"]: tag["value"] for tag in run["tags"]}["baton.run_id"] == run_id
    assert parent["gather"] == run["spanID"]
    assert parent["users"] == spans["gather"]["spanID"]
    get_calls = [span for span in trace["spans"] if span["operationName"] == "GET"]
    assert {parent_of["spanID"] for parent_of in (spans["users"], spans["orders"])} == {
        next(r["spanID"] for r in span["references"]) for span in get_calls
    }
