"""A client that stalls mid-body is answered 408 and its connection closed; a slow one is not.

Without a bound, a client that sends a request head and part of its body holds a handler, its
buffer and a connection for as long as it likes (the run's deadline only starts with the run).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from baton.server import ServerConfig
from tests.server._support import Upstream, call, json_after, manifest, serving, upstream, write

_TIMEOUT = 0.3


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, int, Upstream]]:
    async with upstream({"/item": json_after(0, {"ok": True})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"fetch": call(up.url("/item"))}]))
        config = ServerConfig(reload_interval=0, body_timeout=_TIMEOUT)
        async with serving([tmp_path], config=config) as (_, base):
            yield base, int(base.rsplit(":", 1)[1]), up


def _head(**fields: str) -> bytes:
    lines = ["POST /flow HTTP/1.1", "Host: baton", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One answer, read by its Content-Length (a timeout here fails the test)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status_line, *header_lines = head.decode().strip().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    "start",
    [
        _head(Content_Length="40") + b'{"partial": ',
        _head(Transfer_Encoding="chunked") + b'5\r\n{"a":\r\n',
        _head(Content_Length="40"),
    ],
    ids=["length", "chunked", "nothing-after-the-head"],
)
async def test_a_body_that_stalls_is_a_408_and_the_connection_is_closed(
    served: tuple[str, int, Upstream], start: bytes
) -> None:
    _, port, up = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(start)
        await writer.drain()
        status, headers, body = await _answer(reader)
    finally:
        writer.close()
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    # Closed once aiohttp has drained what else arrives of the body (up to its lingering time).
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/timeout"
    assert problem["detail"] == f"the request body did not arrive within {_TIMEOUT:g}s"
    assert up.requests == []


async def test_a_body_that_keeps_coming_within_the_timeout_is_read_and_run(tmp_path: Path) -> None:
    # Its own server with a timeout far above the body's 0.15 s, so a loaded machine cannot
    # turn this into a 408.
    body = b'{"a": 1, "b": 2}'
    async with upstream({"/item": json_after(0, {"ok": True})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"fetch": call(up.url("/item"))}]))
        config = ServerConfig(reload_interval=0, body_timeout=5.0)
        async with serving([tmp_path], config=config) as (_, base):
            reader, writer = await asyncio.open_connection("127.0.0.1", int(base.rsplit(":", 1)[1]))
            try:
                writer.write(_head(Content_Length=str(len(body))))
                for start in range(0, len(body), 6):
                    writer.write(body[start : start + 6])
                    await writer.drain()
                    await asyncio.sleep(0.05)
                status, _, answer = await _answer(reader)
            finally:
                writer.close()
    assert status == 200, answer
    assert json.loads(answer) == {"ok": True}
    assert len(up.requests) == 1


async def test_refusals_are_counted_by_reason(served: tuple[str, int, Upstream]) -> None:
    _, port, _ = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_head(Content_Length="10"))
        await writer.drain()
        await _answer(reader)
    finally:
        writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: baton\r\nConnection: close\r\n\r\n")
        await writer.drain()
        _, _, metrics = await _answer(reader)
    finally:
        writer.close()
    assert 'baton_requests_refused_total{reason="body-timeout",workflow="under-test"} 1.0' in metrics.decode()
