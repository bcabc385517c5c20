"""The server's pool of upstream connections follows its configuration."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from baton.engine import Http1Transport
from baton.server import ServerConfig
from tests.server._support import call, json_after, manifest, send, serving, upstream, write


async def test_upstream_connections_idle_past_the_configured_timeout_are_closed(tmp_path: Path) -> None:
    async with upstream({"/item": json_after(0, {"ok": True})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"fetch": call(up.url("/item"))}]))
        config = ServerConfig(reload_interval=0, upstream_idle_timeout=0.2)
        async with serving([tmp_path], config=config) as (server, base), aiohttp.ClientSession() as client:
            reply = await send(client, "POST", base + "/flow", json={})
            assert reply.status == 200, reply.text
            transport = server.env.transport
            assert isinstance(transport, Http1Transport)
            assert transport.pool.open_connections == 1  # kept for the next call
            for _ in range(100):  # the pool's timer closes it 0.2 s after it went idle
                if not transport.pool.open_connections:
                    break
                await asyncio.sleep(0.05)
            assert transport.pool.open_connections == 0
