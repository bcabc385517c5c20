"""A secret that flowed into run data (a URI path, a host, an error title) never reaches a span:
exported with the real OTLP exporter to a real receiver, every attribute, status message and
event is searched for the secret in each spelling it can take on the way."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from baton.engine import RunEnvironment
from baton.engine.timeline import Redactor
from baton.server import tracing_from_env
from baton.server.tracing import _safe_url
from tests.server._otlp import attributes_of, otlp_receiver
from tests.server._support import json_after, manifest, send, serving, upstream, write

#: Has characters a URI template escapes and a path may carry as they are (":", "/").
TOKEN = "s3cret:tok/en-42"
PLAIN = "pathSecret-9f8e7d"


def _flow(base: str) -> dict[str, Any]:
    return manifest(
        [
            {"prep": {"set": {"token": "${ $secrets.api.token }", "plain": "${ $secrets.api.plain }"}}},
            # A URI template expands the secret fully percent-encoded ...
            {
                "byTemplate": {
                    "call": "http",
                    "with": {"method": "get", "endpoint": {"uri": base + "/t/{token}"}},
                }
            },
            # ... an expression puts it into the path as it is.
            {
                "byExpression": {
                    "call": "http",
                    "with": {
                        "method": "get",
                        "endpoint": {"uri": '${ "' + base + '/e/" + $secrets.api.token + "/x" }'},
                    },
                }
            },
            {
                "fail": {
                    "raise": {
                        "error": {
                            "type": "https://example.com/errors/refused",
                            "status": 409,
                            "title": '${ "refused for " + $secrets.api.plain }',
                        }
                    }
                }
            },
        ],
        document_top={"use": {"secrets": ["api"]}},
        secrets=["api"],
    )


def _texts(spans: list[Any]) -> list[str]:
    out = []
    for span in spans:
        out.append(span.name)
        out.append(span.status.message)
        out.extend(str(value) for value in attributes_of(span).values())
        for event in span.events:
            out.extend(str(value) for value in attributes_of(event).values())
    return out


async def test_a_secret_in_a_uri_path_or_an_error_title_is_masked_in_every_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = {"/t/{rest:.*}": json_after(0, {}), "/e/{rest:.*}": json_after(0, {})}
    async with otlp_receiver() as receiver, upstream(routes) as up:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{receiver.port}")
        tracing = tracing_from_env()
        assert tracing is not None
        write(tmp_path, "flow.yaml", _flow(f"http://127.0.0.1:{up.port}"))
        env = RunEnvironment(secrets={"api": {"token": TOKEN, "plain": PLAIN}})
        try:
            served = serving([tmp_path], env=env, tracing=tracing)
            async with env, served as (_, base), aiohttp.ClientSession() as client:
                reply = await send(client, "POST", base + "/flow", json={})
        finally:
            await asyncio.to_thread(tracing.shutdown)
    assert reply.status == 409
    # The calls themselves carried the secrets: the masking is the span's, not the run's.
    assert [r["path"] for r in up.requests] == [f"/t/{TOKEN}", f"/e/{TOKEN}/x"]
    calls = sorted(
        attributes_of(span)["url.full"] for span in receiver.spans if span.kind == span.SPAN_KIND_CLIENT
    )
    assert calls == [f"http://127.0.0.1:{up.port}/e/***/x", f"http://127.0.0.1:{up.port}/t/***"]
    failed = next(span for span in receiver.spans if span.name == "fail")
    assert failed.status.message == "refused for ***"
    spellings = {TOKEN, PLAIN, quote(TOKEN), quote(TOKEN, safe=""), "s3cret", "tok/en"}
    leaks = [text for text in _texts(receiver.spans) for secret in spellings if secret in text]
    assert leaks == []


def test_a_secret_partly_percent_encoded_in_a_path_is_still_masked() -> None:
    # "tøk/en" in a path reads "t%C3%B8k/en": neither as it is nor fully encoded (%2F).
    redactor = Redactor(["tøk/en"])
    assert _safe_url("http://h:1/a/t%C3%B8k/en/b?q=1", redactor) == "http://h:1/a/***/b"
    assert _safe_url("http://h/a%20b?token=x", Redactor()) == "http://h/a%20b"


def test_call_url_attributes_remembered_by_a_server_follow_the_secrets_it_is_given_later() -> None:
    tracing = tracing_from_env({"OTEL_TRACES_EXPORTER": "otlp"})
    assert tracing is not None
    host = "hostsecret-1a2b"
    try:
        url = f"http://{host}.example:8443/items/{PLAIN}?token={TOKEN}"
        remembered = tracing.url_attributes(url)
        assert remembered == (f"http://{host}.example:8443/items/{PLAIN}", f"{host}.example", 8443)
        tracing.redact_secrets({"api": {"plain": PLAIN, "host": host}})
        assert tracing.url_attributes(url) == ("http://***.example:8443/items/***", "***.example", 8443)
        assert tracing.url_attributes("http://h/x") == ("http://h/x", "h", None)
    finally:
        tracing.shutdown()


def test_a_secret_written_in_capitals_in_a_host_is_masked_although_hosts_read_lowercased() -> None:
    redactor = Redactor(["HostSecret-42"])
    assert _safe_url("http://user:pw@HostSecret-42.example:81/a", redactor) == "http://***.example:81/a"
    tracing = tracing_from_env({"OTEL_TRACES_EXPORTER": "otlp"})
    assert tracing is not None
    try:
        tracing.redact_secrets({"api": "HostSecret-42"})
        url = "http://HostSecret-42.example/a"
        assert tracing.url_attributes(url) == ("http://***.example/a", "***.example", None)
        # Without a secret in it, a host reads as before: lowercased; an IPv6 one in brackets.
        assert _safe_url("http://Plain.Example:8/a", redactor) == "http://plain.example:8/a"
        assert _safe_url("http://[::1]:8/a", redactor) == "http://[::1]:8/a"
        assert tracing.url_attributes("http://[::1]:8/a") == ("http://[::1]:8/a", "::1", 8)
    finally:
        tracing.shutdown()


def test_task_names_remembered_masked_follow_the_secrets_a_server_is_given_later() -> None:
    tracing = tracing_from_env({"OTEL_TRACES_EXPORTER": "otlp"})
    assert tracing is not None
    try:
        assert tracing.masked_name(f"/do/0/{PLAIN}") == f"/do/0/{PLAIN}"
        tracing.redact_secrets({"api": {"plain": PLAIN}})
        assert tracing.masked_name(f"/do/0/{PLAIN}") == "/do/0/***"
    finally:
        tracing.shutdown()
