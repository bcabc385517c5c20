"""Intake refuses bad requests with 400 problem+json listing every violation, before any call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.server._support import Upstream, call, json_after, manifest, send, serving, upstream, write

SCHEMA = {
    "format": "json",
    "document": {
        "type": "object",
        "required": ["sku", "quantity"],
        "properties": {
            "sku": {"type": "string", "minLength": 3},
            "quantity": {"type": "integer", "minimum": 1},
            "note": {"type": "string"},
        },
        "additionalProperties": False,
    },
}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, Upstream]]:
    async with upstream({"/stock": json_after(0, {"ok": True})}) as up:
        write(
            tmp_path,
            "flow.yaml",
            manifest(
                [{"stock": call(up.url("/stock"))}],
                endpoint={"maxBodyBytes": 200},
                document_top={"input": {"schema": SCHEMA}},
            ),
        )
        async with serving([tmp_path]) as (_, base):
            yield base + "/flow", up


async def test_a_valid_request_runs(served: tuple[str, Upstream]) -> None:
    url, up = served
    async with aiohttp.ClientSession() as client:
        reply = await send(client, "POST", url, json={"sku": "abc", "quantity": 2})
    assert reply.status == 200
    assert len(up.requests) == 1


async def test_every_schema_violation_is_listed_with_its_pointer(served: tuple[str, Upstream]) -> None:
    url, up = served
    async with aiohttp.ClientSession() as client:
        reply = await send(client, "POST", url, json={"sku": "x", "quantity": 0, "extra": 1})
    assert reply.status == 400
    assert reply.content_type == "application/problem+json"
    problem = reply.json()
    assert problem["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/validation"
    pointers = sorted(error.get("pointer", "") for error in problem["errors"])
    assert pointers == ["", "/quantity", "/sku"]  # additionalProperties is reported at the root
    assert any("extra" in error["detail"] for error in problem["errors"])
    assert up.requests == []


async def test_a_wrong_content_type_is_refused(served: tuple[str, Upstream]) -> None:
    url, up = served
    async with aiohttp.ClientSession() as client:
        reply = await send(client, "POST", url, data=b"sku=abc", headers={"Content-Type": "text/plain"})
    assert reply.status == 400
    assert "text/plain" in reply.json()["errors"][0]["detail"]
    assert up.requests == []


async def test_a_body_over_the_limit_is_refused_from_its_length(served: tuple[str, Upstream]) -> None:
    url, up = served
    async with aiohttp.ClientSession() as client:
        reply = await send(
            client,
            "POST",
            url,
            data=b'{"sku": "' + b"a" * 300 + b'"}',
            headers={"Content-Type": "application/json"},
        )
    assert reply.status == 400
    assert "limit is 200" in reply.json()["errors"][0]["detail"]
    assert up.requests == []


async def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(
    served: tuple[str, Upstream],
) -> None:
    url, up = served

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"a" * 100

    async with aiohttp.ClientSession() as client:
        reply = await send(client, "POST", url, data=chunks(), headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert "exceeds the limit of 200" in reply.json()["errors"][0]["detail"]
    assert up.requests == []


async def test_malformed_json_is_refused_with_where(served: tuple[str, Upstream]) -> None:
    url, up = served
    async with aiohttp.ClientSession() as client:
        reply = await send(
            client, "POST", url, data=b'{"sku": ', headers={"Content-Type": "application/json"}
        )
    assert reply.status == 400
    assert (
        reply.json()["errors"][0]["detail"]
        == "the body is not valid JSON: Expecting value at line 1, column 9"
    )
    assert up.requests == []


async def test_a_malformed_deadline_header_is_refused(served: tuple[str, Upstream]) -> None:
    url, up = served
    async with aiohttp.ClientSession() as client:
        reply = await send(
            client, "POST", url, json={"sku": "abc", "quantity": 1}, headers={"X-Baton-Deadline-Ms": "soon"}
        )
    assert reply.status == 400
    assert "X-Baton-Deadline-Ms" in reply.json()["detail"]
    assert up.requests == []


async def test_an_empty_body_with_a_zero_content_length_is_an_empty_object(tmp_path: Path) -> None:
    # aiohttp's reader for an absent body refused readexactly(0): this answered 400 "the body
    # ended before its Content-Length" although the docs say an empty body is {}.
    async with upstream({"/stock": json_after(0, {"ok": True})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"stock": call(up.url("/stock"))}]))
        headers = {"Content-Type": "application/json"}
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            reply = await send(client, "POST", base + "/flow", data=b"", headers=headers)
    assert reply.status == 200, reply.text
    assert len(up.requests) == 1
