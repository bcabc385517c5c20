"""The server's pool of upstream connections follows its configuration."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from baton.engine import Http1Transport
from baton.server import ServerConfig
from tests.server._support import call, json_after, manifest, send, serving, upstream, write

_MAIN = "import sys; from baton.cli.main import main; sys.exit(main())"


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


async def test_a_non_positive_upstream_idle_timeout_is_refused_at_start(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"fetch": call("http://127.0.0.1:9/item")}]))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _MAIN, "serve", str(tmp_path), "--port", "0", "--upstream-idle-timeout", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert stdout == b""
    assert "--upstream-idle-timeout must be a positive number of seconds, got 0.0" in stderr.decode()
    assert "Traceback" not in stderr.decode()
