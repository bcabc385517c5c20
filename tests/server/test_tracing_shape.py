"""What each span carries, exported with the real OTLP exporter to a real receiver: nesting, times,
statuses, compensation events, payloads on request, sampling, and spans of tasks cut short."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from baton.engine.timeline import Redactor, TaskRecord
from baton.server import Tracing, tracing_from_env
from tests.server._otlp import Receiver, attributes_of, otlp_receiver
from tests.server._support import Reply, Upstream, call, json_after, manifest, send, serving, upstream, write

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
CLIENT_PARENT = {"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"}


@asynccontextmanager
async def _tracing(monkeypatch: pytest.MonkeyPatch, **env: str) -> AsyncIterator[tuple[Tracing, Receiver]]:
    async with otlp_receiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{receiver.port}")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        tracing = tracing_from_env()
        assert tracing is not None
        try:
            yield tracing, receiver
        finally:
            await asyncio.to_thread(tracing.shutdown)


async def _post(tmp_path: Path, tracing: Tracing, flow: dict[str, Any], headers: dict[str, str]) -> Reply:
    write(tmp_path, "flow.yaml", flow)
    async with serving([tmp_path], tracing=tracing) as (_, base), aiohttp.ClientSession() as client:
        return await send(client, "POST", base + "/flow", json={"n": 1}, headers=headers)


def _by_name(receiver: Receiver) -> dict[str, Any]:
    return {span.name: span for span in receiver.spans if span.kind != span.SPAN_KIND_CLIENT}


def _calls(receiver: Receiver) -> dict[bytes, Any]:
    """Client spans by the id of their parent (task) span."""
    return {span.parent_span_id: span for span in receiver.spans if span.kind == span.SPAN_KIND_CLIENT}


async def test_nested_tasks_hang_under_their_parent_task_and_fit_inside_it_in_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _tracing(monkeypatch) as (tracing, receiver), upstream({"/item": json_after(0, {})}) as up:
        flow = manifest([{"outer": {"do": [{"inner": call(up.url("/item"))}]}}])
        reply = await _post(tmp_path, tracing, flow, CLIENT_PARENT)
    assert reply.status == 200
    spans = _by_name(receiver)
    run, outer, inner = spans["POST /flow"], spans["outer"], spans["inner"]
    get = _calls(receiver)[inner.span_id]
    assert outer.parent_span_id == run.span_id
    assert inner.parent_span_id == outer.span_id
    assert outer.kind == inner.kind == outer.SPAN_KIND_INTERNAL
    assert get.name == "GET"
    # Each span lies within its parent's time.
    for child, parent in ((outer, run), (inner, outer), (get, inner)):
        assert parent.start_time_unix_nano <= child.start_time_unix_nano, child.name
        assert child.start_time_unix_nano <= child.end_time_unix_nano <= parent.end_time_unix_nano, child.name
    inner_attributes = attributes_of(inner)
    assert inner_attributes["baton.task.name"] == "inner"
    assert inner_attributes["baton.task.kind"] == "call"
    assert inner_attributes["baton.task.path"] == "/do/0/outer/do/0/inner"
    assert inner_attributes["baton.task.status"] == "completed"
    assert inner_attributes["baton.task.attempts"] == 1
    assert "baton.task.input" not in inner_attributes  # payloads only when asked
    assert "baton.task.output" not in inner_attributes
    assert attributes_of(get)["baton.task.path"] == "/do/0/outer/do/0/inner"
    assert attributes_of(get)["server.port"] == up.port
    assert up.requests[0]["headers"]["traceparent"] == f"00-{CLIENT_TRACE}-{get.span_id.hex()}-01"
    assert attributes_of(run)["baton.run.outcome"] == "completed"
    assert run.status.code == run.status.STATUS_CODE_UNSET


async def _book(request: web.Request) -> web.Response:
    return web.json_response({"booking": request.match_info["what"]}, status=201)


async def _cancel(request: web.Request) -> web.Response:
    failing = request.match_info["what"] == "car"
    return web.json_response({"error": "no"}, status=500) if failing else web.Response(status=204)


SAGA_ROUTES = {"/book/{what}": _book, "/cancel/{what}": _cancel}


def _saga(up: Upstream) -> dict[str, Any]:
    """Books a hotel and a car, then fails: both are compensated, the car's undo fails."""

    def book_task(what: str) -> dict[str, Any]:
        task = call(up.url(f"/book/{what}"), method="post")
        return {f"book_{what}": {**task, "metadata": {"baton.compensateBy": "cancelBooking"}}}

    undo = call('${ "' + up.url("/cancel/") + '" + .booking }', method="post")
    return manifest(
        [
            book_task("hotel"),
            book_task("car"),
            {"pay": {"raise": {"error": {"type": "https://example.com/declined", "status": 402}}}},
        ],
        document_top={"use": {"functions": {"cancelBooking": undo}}},
    )


async def test_a_saga_marks_failures_and_records_each_compensation_as_an_event_of_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _tracing(monkeypatch) as (tracing, receiver), upstream(SAGA_ROUTES) as up:
        reply = await _post(tmp_path, tracing, _saga(up), CLIENT_PARENT)
    assert reply.status == 402
    spans = _by_name(receiver)
    run, pay = spans["POST /flow"], spans["pay"]
    assert pay.status.code == pay.status.STATUS_CODE_ERROR
    assert attributes_of(pay)["error.type"] == "https://example.com/declined"
    assert attributes_of(pay)["baton.task.status"] == "faulted"
    assert attributes_of(run)["baton.run.outcome"] == "faulted"
    assert attributes_of(run)["http.response.status_code"] == 402
    assert attributes_of(run)["error.type"] == "https://example.com/declined"
    assert run.status.code == run.status.STATUS_CODE_UNSET  # a 4xx is the caller's, not the server's
    events = [(event.name, attributes_of(event)) for event in run.events]
    assert events == [
        (
            "compensation",
            {
                "baton.compensation.task": "/do/1/book_car",
                "baton.compensation.handler": "cancelBooking",
                "baton.compensation.status": "faulted",
            },
        ),
        (
            "compensation",
            {
                "baton.compensation.task": "/do/0/book_hotel",
                "baton.compensation.handler": "cancelBooking",
                "baton.compensation.status": "completed",
            },
        ),
    ]
    assert all(run.start_time_unix_nano <= e.time_unix_nano <= run.end_time_unix_nano for e in run.events)
    failed_cancel = [
        span
        for span in receiver.spans
        if span.kind == span.SPAN_KIND_CLIENT and attributes_of(span)["url.full"].endswith("/cancel/car")
    ]
    assert len(failed_cancel) == 1
    assert attributes_of(failed_cancel[0])["http.response.status_code"] == 500
    assert attributes_of(failed_cancel[0])["error.type"] == "500"
    assert failed_cancel[0].status.code == failed_cancel[0].status.STATUS_CODE_ERROR


async def test_an_upstream_that_cannot_be_reached_gives_a_client_span_a_transport_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _tracing(monkeypatch) as (tracing, receiver):
        up = Upstream()
        async with upstream({}) as gone:
            up.port = gone.port  # a port that was just closed: the connection is refused
        flow = manifest([{"fetch": call(up.url("/x"))}])
        reply = await _post(tmp_path, tracing, flow, CLIENT_PARENT)
    assert reply.status >= 500
    get = _calls(receiver)[_by_name(receiver)["fetch"].span_id]
    assert attributes_of(get)["error.type"] == "transport"
    assert "http.response.status_code" not in attributes_of(get)
    assert get.status.code == get.status.STATUS_CODE_ERROR
    run = _by_name(receiver)["POST /flow"]
    assert run.status.code == run.status.STATUS_CODE_ERROR


@pytest.mark.parametrize("enabled", [True, False])
async def test_task_inputs_and_outputs_are_on_task_spans_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    flow = manifest([{"double": {"set": {"n": "${ .n * 2 }"}}}])
    env = {"BATON_TRACE_PAYLOADS": "true"} if enabled else {}
    async with _tracing(monkeypatch, **env) as (tracing, receiver):
        reply = await _post(tmp_path, tracing, flow, CLIENT_PARENT)
    assert reply.status == 200
    attributes = attributes_of(_by_name(receiver)["double"])
    if enabled:
        assert attributes["baton.task.input"] == '{"n": 1}'
        assert attributes["baton.task.output"] == '{"n": 2}'
    else:
        assert "baton.task.input" not in attributes
        assert "baton.task.output" not in attributes


async def test_an_unsampled_run_exports_no_span_and_still_passes_its_trace_upstream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        _tracing(monkeypatch, OTEL_TRACES_SAMPLER="always_off") as (tracing, receiver),
        upstream({"/item": json_after(0, {})}) as up,
    ):
        flow = manifest([{"fetch": call(up.url("/item"))}, {"again": call(up.url("/item"))}])
        reply = await _post(tmp_path, tracing, flow, CLIENT_PARENT)
    assert reply.status == 200
    assert receiver.spans == []
    seen = [request["headers"]["traceparent"].split("-") for request in up.requests]
    assert [(version, trace, flags) for version, trace, _, flags in seen] == [("00", CLIENT_TRACE, "00")] * 2
    span_ids = {span for _, _, span, _ in seen}
    assert len(span_ids) == 2
    assert CLIENT_SPAN not in span_ids


async def test_a_run_without_an_incoming_trace_starts_one_that_its_calls_carry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _tracing(monkeypatch) as (tracing, receiver), upstream({"/item": json_after(0, {})}) as up:
        flow = manifest([{"fetch": call(up.url("/item"))}])
        reply = await _post(tmp_path, tracing, flow, {})
    assert reply.status == 200
    run = _by_name(receiver)["POST /flow"]
    assert run.parent_span_id == b""
    get = _calls(receiver)[_by_name(receiver)["fetch"].span_id]
    version, trace, span, flags = up.requests[0]["headers"]["traceparent"].split("-")
    assert (version, trace, span) == ("00", run.trace_id.hex(), get.span_id.hex())
    assert int(flags, 16) & 1 == 1  # sampled
    assert "tracestate" not in up.requests[0]["headers"]


async def test_an_incoming_tracestate_travels_on_to_every_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _tracing(monkeypatch) as (tracing, receiver), upstream({"/item": json_after(0, {})}) as up:
        flow = manifest([{"fetch": call(up.url("/item"))}])
        reply = await _post(tmp_path, tracing, flow, {**CLIENT_PARENT, "tracestate": "vendor=abc"})
    assert reply.status == 200
    assert up.requests[0]["headers"]["tracestate"] == "vendor=abc"
    assert {span.trace_state for span in receiver.spans} == {"vendor=abc"}


async def test_the_span_of_a_task_cut_short_is_ended_when_the_run_finishes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with _tracing(monkeypatch) as (tracing, receiver):
        tracer = tracing.start_run(
            name="POST /flow", headers=CLIENT_PARENT, attributes={"baton.run_id": "r1"}
        )
        started = time.time()
        record = TaskRecord(
            path="/do/0/wait",
            name="wait",
            kind="wait",
            parent=None,
            started_at=started,
            input={},
            redactor=Redactor(),
            sequence=1,
        )
        tracer.on_task_start(record)
        tracer.finish(outcome="cancelled", status_code=503, error_type=None)
        await asyncio.to_thread(tracing.provider.force_flush)
    spans = _by_name(receiver)
    assert set(spans) == {"POST /flow", "wait"}
    wait, run = spans["wait"], spans["POST /flow"]
    assert wait.parent_span_id == run.span_id
    assert wait.start_time_unix_nano == int(started * 1_000_000_000)
    assert wait.start_time_unix_nano <= wait.end_time_unix_nano
    assert "baton.task.status" not in attributes_of(wait)  # it never ended on its own
    assert attributes_of(run)["baton.run.outcome"] == "cancelled"
    assert run.status.code == run.status.STATUS_CODE_ERROR


@pytest.mark.parametrize(
    "limit", ["OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"]
)
async def test_span_limits_from_the_standard_variables_apply_to_every_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str
) -> None:
    async with (
        _tracing(monkeypatch, **{limit: "4"}) as (tracing, receiver),
        upstream({"/a-long-path-name": json_after(0, {})}) as up,
    ):
        flow = manifest([{"fetch": call(up.url("/a-long-path-name"))}])
        reply = await _post(tmp_path, tracing, flow, CLIENT_PARENT)
    assert reply.status == 200
    assert len(receiver.spans) == 3
    for span in receiver.spans:
        attributes = attributes_of(span)
        if limit == "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT":
            assert len(attributes) == 4, span.name
            assert span.dropped_attributes_count > 0, span.name
        else:
            assert len(attributes) > 4, span.name
            assert all(len(v) <= 4 for v in attributes.values() if isinstance(v, str)), span.name
            assert attributes["baton.run_id" if span.name == "POST /flow" else "baton.task.path"] in (
                reply.headers["X-Baton-Run-Id"][:4],
                "/do/",
            )


@pytest.mark.plane
async def test_the_span_tree_reaches_jaeger_over_otlp_grpc_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jaeger: Any
) -> None:
    service = f"baton-grpc-{uuid.uuid4().hex[:8]}"
    # A trace of its own: Jaeger is shared by the session, and traces merge by id.
    trace_id = uuid.uuid4().hex
    for name, value in jaeger.exporter_env("grpc").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OTEL_SERVICE_NAME", service)
    tracing = tracing_from_env()
    assert tracing is not None
    async with upstream({"/item": json_after(0, {})}) as up:
        try:
            flow = manifest([{"outer": {"do": [{"inner": call(up.url("/item"))}]}}])
            traceparent = {"traceparent": f"00-{trace_id}-{CLIENT_SPAN}-01"}
            reply = await _post(tmp_path, tracing, flow, traceparent)
        finally:
            await asyncio.to_thread(tracing.shutdown)
    assert reply.status == 200
    found = await asyncio.to_thread(jaeger.find_trace, service, operation="POST /flow")
    assert found["traceID"] == trace_id
    spans = {span["operationName"]: span for span in found["spans"]}
    assert set(spans) == {"POST /flow", "outer", "inner", "GET"}

    def parent(name: str) -> str | None:
        references = spans[name]["references"]
        return next((r["spanID"] for r in references if r["refType"] == "CHILD_OF"), None)

    assert parent("outer") == spans["POST /flow"]["spanID"]
    assert parent("inner") == spans["outer"]["spanID"]
    assert parent("GET") == spans["inner"]["spanID"]
    assert up.requests[0]["headers"]["traceparent"] == f"00-{trace_id}-{spans['GET']['spanID']}-01"


@pytest.mark.parametrize(
    ("sampler", "incoming_flags", "recorded"),
    [
        ({}, "00", False),  # the default sampler follows the caller's decision ...
        ({}, "01", True),
        ({"OTEL_TRACES_SAMPLER": "always_on"}, "00", True),  # ... these do not
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.0"}, "00", True),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.0"}, "00", False),
    ],
)
async def test_the_sampler_decides_once_for_the_whole_run_and_its_calls_say_so_upstream(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sampler: dict[str, str],
    incoming_flags: str,
    recorded: bool,
) -> None:
    async with (
        _tracing(monkeypatch, **sampler) as (tracing, receiver),
        upstream({"/item": json_after(0, {})}) as up,
    ):
        flow = manifest([{"outer": {"do": [{"inner": call(up.url("/item"))}]}}])
        incoming = {"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-{incoming_flags}"}
        reply = await _post(tmp_path, tracing, flow, incoming)
    assert reply.status == 200
    assert len(receiver.spans) == (4 if recorded else 0)
    _, trace, span, flags = up.requests[0]["headers"]["traceparent"].split("-")
    assert trace == CLIENT_TRACE
    assert flags == ("01" if recorded else "00")
    if recorded:
        assert span == _calls(receiver)[_by_name(receiver)["inner"].span_id].span_id.hex()


async def test_the_event_count_limit_keeps_the_latest_compensations_and_counts_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = {"OTEL_SPAN_EVENT_COUNT_LIMIT": "1"}
    async with _tracing(monkeypatch, **limit) as (tracing, receiver), upstream(SAGA_ROUTES) as up:
        reply = await _post(tmp_path, tracing, _saga(up), CLIENT_PARENT)
    assert reply.status == 402
    run = _by_name(receiver)["POST /flow"]
    assert [attributes_of(event)["baton.compensation.task"] for event in run.events] == ["/do/0/book_hotel"]
    assert run.dropped_events_count == 1


async def test_concurrent_runs_each_export_their_own_complete_span_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = 40
    routes = {"/users": json_after(0.01, {}), "/cart": json_after(0, {}), "/stock": json_after(0.005, {})}
    async with _tracing(monkeypatch) as (tracing, receiver), upstream(routes) as up:
        branches = [{name: call(up.url(f"/{name}"))} for name in ("users", "cart", "stock")]
        write(tmp_path, "flow.yaml", manifest([{"gather": {"fork": {"branches": branches}}}]))
        async with serving([tmp_path], tracing=tracing) as (_, base), aiohttp.ClientSession() as client:
            replies = await asyncio.gather(
                *(send(client, "POST", base + "/flow", json={}) for _ in range(runs))
            )
    assert [reply.status for reply in replies] == [200] * runs
    by_trace: dict[bytes, list[Any]] = {}
    for span in receiver.spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    assert len(by_trace) == runs
    for spans in by_trace.values():
        named = {span.name: span for span in spans if span.kind != span.SPAN_KIND_CLIENT}
        assert sorted(named) == ["POST /flow", "cart", "gather", "stock", "users"]
        assert named["gather"].parent_span_id == named["POST /flow"].span_id
        calls = {span.parent_span_id: span for span in spans if span.kind == span.SPAN_KIND_CLIENT}
        assert len(calls) == 3
        for branch in ("users", "cart", "stock"):
            assert named[branch].parent_span_id == named["gather"].span_id
            assert attributes_of(calls[named[branch].span_id])["url.full"] == up.url(f"/{branch}")
    # Every upstream request carried the context of its own client span.
    client_spans = {span.span_id.hex() for span in receiver.spans if span.kind == span.SPAN_KIND_CLIENT}
    assert {r["headers"]["traceparent"].split("-")[2] for r in up.requests} == client_spans
