"""Both transports behind one factory: contract tests run over each of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from baton.engine.http import AiohttpTransport, Http1Transport, HttpTransport

MakeTransport = Callable[..., HttpTransport]


@pytest.fixture(params=["http1", "aiohttp"])
async def make_transport(request: pytest.FixtureRequest) -> AsyncIterator[MakeTransport]:
    made: list[HttpTransport] = []
    kind = request.param

    def make(**options: Any) -> HttpTransport:
        if kind == "aiohttp":
            options.pop("ssl_context", None)
            options.pop("idle_timeout", None)
            transport: HttpTransport = AiohttpTransport(**options)
        else:
            transport = Http1Transport(**options)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        await transport.close()


@pytest.fixture
async def http1() -> AsyncIterator[Http1Transport]:
    transport = Http1Transport()
    yield transport
    await transport.close()
