"""A client that stops reading a large answer is cut off after ``send_timeout``.

aiohttp waits without a bound for a client to read what does not fit in the socket buffers: an
8 MB answer and its connection stayed held for as long as the client liked.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from baton.server import ServerConfig
from tests.server._support import manifest, send, serving, write

_SIZE = 8_000_000
_TIMEOUT = 0.5


@pytest.fixture
async def base(tmp_path: Path) -> AsyncIterator[str]:
    write(tmp_path, "flow.yaml", manifest([{"big": {"set": {"data": '${ "x" * ' + str(_SIZE) + " }"}}}]))
    config = ServerConfig(reload_interval=0, send_timeout=_TIMEOUT)
    async with serving([tmp_path], config=config) as (_, url):
        yield url


async def _stalled_reader(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive window: the answer cannot hide in the client's kernel buffer.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


async def _read_to_end(reader: asyncio.StreamReader) -> int:
    received = 0
    try:
        while chunk := await reader.read(1 << 20):
            received += len(chunk)
    except ConnectionResetError:
        pass
    return received


async def test_a_client_that_stops_reading_a_large_answer_is_cut_off(base: str) -> None:
    reader, writer = await _stalled_reader(int(base.rsplit(":", 1)[1]))
    try:
        writer.write(b"POST /flow HTTP/1.1\r\nHost: baton\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: 2\r\n\r\n{}")
        await writer.drain()
        await asyncio.sleep(_TIMEOUT * 4)  # not reading
        # Reading now: the connection ends (it was aborted) before the whole answer came.
        received = await asyncio.wait_for(_read_to_end(reader), 10)
    finally:
        writer.close()
    assert 0 < received < _SIZE


async def test_a_client_that_reads_gets_the_whole_large_answer_and_the_server_stays_up(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        reply = await send(client, "POST", base + "/flow", json={})
        health = await send(client, "GET", base + "/healthz")
    assert reply.status == 200
    assert len(reply.json()["data"]) == _SIZE
    assert health.status == 200
