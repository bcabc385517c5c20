"""No secret value reaches a client, the inspection views or a span, wherever it flowed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from baton.engine import RunEnvironment
from baton.server import tracing_from_env
from tests.server._otlp import otlp_receiver
from tests.server._support import manifest, send, serving, upstream, write

TOKEN = "tok-5ecret-value-123"


async def _echo(request: web.Request) -> web.Response:
    # A careless upstream that echoes the credential back.
    return web.json_response({"saw": request.headers.get("Authorization", "")})


def _flow(url: str) -> dict[str, object]:
    return manifest(
        [
            {
                "call": {
                    "call": "http",
                    "with": {
                        "method": "get",
                        "endpoint": {"uri": url},
                        "headers": {"Authorization": '${ "Bearer " + $secrets.api.token }'},
                    },
                }
            },
            {"leak": {"set": {"echo": "${ .saw }", "direct": "${ $secrets.api.token }"}}},
        ],
        document_top={"use": {"secrets": ["api"]}},
        secrets=["api"],
    )


async def test_inspection_and_spans_never_show_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with otlp_receiver() as receiver, upstream({"/echo": _echo}) as up:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{receiver.port}")
        monkeypatch.setenv("BATON_TRACE_PAYLOADS", "true")
        tracing = tracing_from_env()
        assert tracing is not None
        write(tmp_path, "flow.yaml", _flow(up.url("/echo")))
        env = RunEnvironment(secrets={"api": {"token": TOKEN}})
        try:
            served = serving([tmp_path], env=env, tracing=tracing)
            async with env, served as (_, base), aiohttp.ClientSession() as client:
                reply = await send(client, "POST", base + "/flow", json={})
                run_id = reply.headers["X-Baton-Run-Id"]
                detail = await send(client, "GET", f"{base}/runs/{run_id}")
                page = await send(client, "GET", f"{base}/runs/{run_id}", headers={"Accept": "text/html"})
                listing = await send(client, "GET", f"{base}/runs")
        finally:
            await asyncio.to_thread(tracing.shutdown)
    assert up.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"  # the call itself had it
    for text in (detail.text, page.text, listing.text):
        assert TOKEN not in text
    assert "***" in detail.text
    attributes = [str(kv.value) for span in receiver.spans for kv in span.attributes]
    assert any(kv.key == "baton.task.input" for span in receiver.spans for kv in span.attributes)
    assert not [value for value in attributes if TOKEN in value]


async def test_a_failed_calls_detail_is_shown_to_inspection_with_the_secret_masked(tmp_path: Path) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": "nope"}, status=503)

    async with upstream({"/refuse": refuse}) as up:
        uri = '${ "' + up.url("/refuse") + '?key=" + $secrets.api.token }'
        write(
            tmp_path,
            "flow.yaml",
            manifest(
                [{"call": {"call": "http", "with": {"method": "get", "endpoint": uri}}}],
                document_top={"use": {"secrets": ["api"]}},
                secrets=["api"],
            ),
        )
        env = RunEnvironment(secrets={"api": {"token": TOKEN}})
        async with env, serving([tmp_path], env=env) as (_, base), aiohttp.ClientSession() as client:
            reply = await send(client, "POST", base + "/flow", json={})
            run_id = reply.headers["X-Baton-Run-Id"]
            detail = await send(client, "GET", f"{base}/runs/{run_id}")
            page = await send(client, "GET", f"{base}/runs/{run_id}", headers={"Accept": "text/html"})
    assert up.requests[0]["path"] == "/refuse"
    [task] = detail.json()["timeline"]
    assert task["errorDetail"] == f"GET {up.url('/refuse')}?key=*** answered 503 Service Unavailable"
    assert "answered 503 Service Unavailable" in page.text
    for text in (reply.text, detail.text, page.text):
        assert TOKEN not in text
