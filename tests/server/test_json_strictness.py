"""JSON that JSON does not allow is refused where it enters, over real HTTP, never a 500.

Python's ``json`` reads ``NaN``, ``1e999`` (as infinity) and unpaired surrogates, and recurses
once per nesting level. Before, a request body of 1,000 brackets answered a plain-text 500 with
a traceback in the log, a lone surrogate answered a 500, and ``{"x": NaN}`` was echoed back as
``{"x":NaN}``, which no JSON parser reads. An upstream's answer went through the same reader.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from baton.engine import RunEnvironment
from baton.json_text import MAX_NESTING
from tests.server._support import Upstream, call, manifest, send, serving, upstream, write


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


async def _echo(request: web.Request) -> web.StreamResponse:
    return web.Response(body=await request.read(), content_type="application/json")


async def _answer(request: web.Request) -> web.StreamResponse:
    # The body to answer with is the request's own query: `?body=...&type=...`.
    return web.Response(
        body=request.query["body"].encode(), content_type=request.query.get("type", "application/json")
    )


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, Upstream]]:
    async with upstream({"/echo": _echo, "/answer": _answer}) as up:
        write(
            tmp_path,
            "echo.yaml",
            manifest(
                [{"send": call(up.url("/echo"), method="post", body="${ . }")}],
                path="/echo",
                name="echo",
                endpoint={"maxBodyBytes": 2_000_000},
            ),
        )
        answer_uri = (
            '${ "'
            + up.url("/answer")
            + '?" + (. | to_entries | map("\\(.key)=\\(.value|@uri)") | join("&")) }'
        )
        write(tmp_path, "relay.yaml", manifest([{"fetch": call(answer_uri)}], path="/relay", name="relay"))
        async with serving([tmp_path]) as (_, base):
            yield base, up


async def _post(base: str, path: str, body: bytes) -> Any:
    async with aiohttp.ClientSession() as client:
        return await send(
            client, "POST", base + path, data=body, headers={"Content-Type": "application/json"}
        )


@pytest.mark.parametrize(
    ("body", "detail", "pointer"),
    [
        (b'{"x": NaN}', "NaN is not a JSON number", None),
        (b'{"x": [1, -Infinity]}', "-Infinity is not a JSON number", None),
        (b'{"x": 1e999}', "1e999 is out of range for a number", None),
        (b'{"x": ' + b"7" * 5000 + b"}", "a number has over 4300 digits", None),
        (
            b'{"x": {"y": ["\\ud800"]}}',
            "the string holds an unpaired UTF-16 surrogate (\\ud800), which is not Unicode text",
            "/x/y/0",
        ),
        (b'["\xed\xa0\x80"]', "the text is not UTF-8 (byte 2 is 0xed)", None),
        (
            b'{"x": ' + nested(MAX_NESTING).encode() + b"}",
            f"arrays and objects are nested deeper than {MAX_NESTING} levels",
            "/x/0/0/0/0/0/0/0/…",
        ),
        (nested(1000).encode(), f"arrays and objects are nested deeper than {MAX_NESTING} levels", None),
        (nested(300_000).encode(), f"arrays and objects are nested deeper than {MAX_NESTING} levels", None),
    ],
    ids=[
        "nan",
        "infinity",
        "overflow",
        "digits",
        "surrogate",
        "surrogate-bytes",
        "deep",
        "deeper",
        "deepest",
    ],
)
async def test_a_body_json_does_not_allow_is_a_400_naming_what_and_where(
    served: tuple[str, Upstream],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    detail: str,
    pointer: str | None,
) -> None:
    base, up = served
    with caplog.at_level(logging.WARNING):
        reply = await _post(base, "/echo", body)
    assert reply.status == 400
    assert reply.content_type == "application/problem+json"
    [error] = reply.json()["errors"]
    assert error["detail"] == f"the body is not valid JSON: {detail}"
    assert error.get("pointer") == pointer
    assert up.requests == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_data_nested_to_the_limit_goes_through_a_whole_run_and_its_inspection(
    served: tuple[str, Upstream],
) -> None:
    base, up = served
    body = ('{"x": ' + nested(MAX_NESTING - 1) + ', "name": "é😀"}').encode()
    reply = await _post(base, "/echo", body)
    assert reply.status == 200, reply.body[:300]
    assert reply.json() == json.loads(body)
    assert json.loads(up.requests[0]["body"]) == json.loads(body)
    run_id = reply.headers["X-Baton-Run-Id"]
    async with aiohttp.ClientSession() as client:
        shown = await send(client, "GET", f"{base}/runs/{run_id}")
        page = await send(client, "GET", f"{base}/runs/{run_id}", headers={"Accept": "text/html"})
    assert shown.status == 200
    assert shown.json()["outcome"] == "completed"
    assert page.status == 200


async def _relay(base: str, answer: str, content_type: str = "application/json") -> tuple[Any, Any]:
    reply = await _post(base, "/relay", json.dumps({"body": answer, "type": content_type}).encode())
    async with aiohttp.ClientSession() as client:
        shown = await send(client, "GET", f"{base}/runs/{reply.headers['X-Baton-Run-Id']}")
    return reply, shown.json()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ('{"total": NaN}', "NaN is not a JSON number"),
        ('{"total": 1e400}', "out of range"),
        ('{"name": "\\udfff"}', "surrogate"),
        (nested(1000), "nested too deeply to read"),  # past the interpreter's stack
    ],
    ids=["nan", "overflow", "surrogate", "deep"],
)
async def test_an_upstream_answer_json_does_not_allow_faults_the_call_with_what_and_where(
    served: tuple[str, Upstream], answer: str, reason: str
) -> None:
    base, _ = served
    reply, run = await _relay(base, answer)
    assert reply.status == 502
    assert reply.content_type == "application/problem+json"
    assert reply.json()["instance"] == "/do/0/fetch"
    assert run["outcome"] == "faulted"
    [task] = run["timeline"]
    assert task["error"] == "Malformed upstream response"
    # The operator inspecting the run reads what and where; the client's problem stays generic.
    assert "answered JSON that a run cannot carry: " in task["errorDetail"]
    assert reason in task["errorDetail"]
    assert reason not in reply.body.decode()


async def test_an_answer_labelled_json_that_is_not_json_at_all_still_reaches_the_flow_as_text(
    served: tuple[str, Upstream],
) -> None:
    base, _ = served
    reply, _ = await _relay(base, "<html>upstream error page</html>")
    assert reply.status == 200
    assert reply.json() == "<html>upstream error page</html>"


async def test_a_value_json_cannot_carry_that_reaches_the_output_faults_the_run(tmp_path: Path) -> None:
    # Every reader refuses NaN; a value handed in through the Python API (here a secret, read by
    # a plain path that never goes through jq, which would make it null) still can reach it.
    tasks = [{"s": {"set": {"x": "${ $secrets.api.n }"}}}]
    flow = manifest(tasks, document_top={"use": {"secrets": ["api"]}}, secrets=["api"])
    write(tmp_path, "flow.yaml", flow)
    env = RunEnvironment(secrets={"api": {"n": math.nan}})
    async with env, serving([tmp_path], env=env) as (_, base), aiohttp.ClientSession() as client:
        reply = await send(client, "POST", base + "/flow", json={})
        run_url = f"{base}/runs/{reply.headers['X-Baton-Run-Id']}"
        run = (await send(client, "GET", run_url)).json()
        page = await send(client, "GET", run_url, headers={"Accept": "text/html"})
    assert reply.status == 500
    assert reply.content_type == "application/problem+json"
    assert reply.json()["instance"] == "/output"
    assert b"NaN" not in reply.body
    assert run["outcome"] == "faulted"
    assert run["errorDetail"] == (
        "the workflow output cannot be written as JSON: nan is not a JSON number at /x"
    )
    assert "cannot be written as JSON" in page.text
