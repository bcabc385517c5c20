"""A request the HTTP layer cannot parse is answered 400 and logged as one quiet line.

aiohttp logs such a request at ERROR with a traceback whose message quotes the first 100 bytes
of the offending line: an oversized ``Authorization`` header put the start of its token in
Baton's error log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from baton.server import ServerConfig
from tests.server._support import json_after, manifest, serving, upstream, write

SECRET = "s3cr3t-" + "T" * 9000


@pytest.fixture
async def ports(tmp_path: Path) -> AsyncIterator[tuple[int, int]]:
    async with upstream({"/ok": json_after(0, {"ok": True})}) as up:
        write(
            tmp_path,
            "flow.yaml",
            manifest([{"c": {"call": "http", "with": {"method": "get", "endpoint": up.url("/ok")}}}]),
        )
        async with serving([tmp_path], config=ServerConfig(reload_interval=0, admin_port=0)) as (
            server,
            base,
        ):
            assert server.admin_port is not None
            yield int(base.rsplit(":", 1)[1]), server.admin_port


async def _exchange(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 5)
    finally:
        writer.close()


REQUESTS = {
    "oversized-authorization": (
        b"POST /flow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + SECRET.encode() + b"\r\n\r\n"
    ),
    "oversized-url": b"GET /runs?token=" + SECRET.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "garbage-request-line": b"\x16\x03\x01 not http at all " + SECRET.encode()[:50] + b"\r\n\r\n",
    "bad-chunking": (
        b"POST /flow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz" + SECRET.encode()[:50] + b"\r\n"
    ),
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
@pytest.mark.parametrize("port_of", ["main", "admin"])
async def test_a_malformed_request_is_a_400_and_one_info_line_without_what_the_client_sent(
    ports: tuple[int, int], caplog: pytest.LogCaptureFixture, name: str, port_of: str
) -> None:
    port = ports[0] if port_of == "main" else ports[1]
    with caplog.at_level(logging.DEBUG):
        answer = await _exchange(port, REQUESTS[name])
        await asyncio.sleep(0)  # let the handler finish logging
    assert answer.split(b" ", 2)[1] == b"400", answer[:80]
    records = [r for r in caplog.records if r.name.startswith(("aiohttp", "baton"))]
    assert [r for r in records if r.levelno >= logging.WARNING] == []
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in records)
    assert "s3cr3t" not in logged
    refused = [r.getMessage() for r in records if r.getMessage().startswith("refused a malformed request")]
    assert len(refused) <= 1
    if name.startswith("oversized"):
        assert refused
        assert "LineTooLong, answered 400" in refused[0]


async def test_a_well_formed_request_still_works_after_malformed_ones(ports: tuple[int, int]) -> None:
    await _exchange(ports[0], REQUESTS["oversized-authorization"])
    answer = await _exchange(
        ports[0],
        b"POST /flow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\n{}",
    )
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
