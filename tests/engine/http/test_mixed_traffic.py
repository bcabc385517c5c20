"""Under concurrent mixed traffic, every request gets its own answer, never another's.

A pooled client's worst failure is silent: a connection handed back to the pool with bytes
still owed to the last request makes the next request read them. Here a real aiohttp upstream
answers in every framing (length, chunked, gzip, ``Connection: close``, delayed, aborted
mid-exchange) and closes a connection 50 ms after its last answer unless another request has
begun on it. Requests come in bursts with pauses around those 50 ms, so pooled connections are
picked as the upstream closes them; each answer echoes its request's id and the test checks
every one.

The idle closing is the upstream's own, not aiohttp's ``keepalive_timeout``: aiohttp 3.14 also
starts that timer when it accepts a connection, so an event loop stalled 50 ms between accept
and the request (it happened once in CI, late in the full suite) closed *new* connections
before reading their request. A client does not resend on a new connection that the server
dropped (net/http's rule, which this one follows), so the test failed for a reason it is not
about.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from baton.engine.http import Http1Transport, TransportError

from .conftest import MakeTransport

_MODES = ("plain",) * 6 + ("close", "chunked", "gzip", "slow", "abort")
_REQUESTS = 1200
_CONCURRENCY = 48


async def _answer(request: web.Request) -> web.StreamResponse:
    body = json.dumps({"id": request.query["id"], "pad": "x" * int(request.query["pad"])}).encode()
    mode = request.query["mode"]
    if mode == "close":
        return web.Response(body=body, content_type="application/json", headers={"Connection": "close"})
    if mode == "chunked":
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 997):
            await response.write(body[start : start + 997])
        await response.write_eof()
        return response
    if mode == "gzip":
        return web.Response(
            body=gzip.compress(body),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    if mode == "slow":
        await asyncio.sleep(random.random() * 0.01)
    if mode == "abort":
        assert request.transport is not None
        request.transport.abort()
        raise asyncio.CancelledError
    return web.Response(body=body, content_type="application/json")


_IDLE_SECONDS = 0.05


class _IdleCloser:
    """Closes a connection ``_IDLE_SECONDS`` after an answer unless a request began on it since."""

    def __init__(self) -> None:
        self.requests: dict[asyncio.BaseTransport, int] = {}
        self.closed = 0

    def arrived(self, request: web.Request) -> tuple[asyncio.BaseTransport, int]:
        transport = request.transport
        assert transport is not None
        count = self.requests[transport] = self.requests.get(transport, 0) + 1
        return transport, count

    def answered(self, transport: asyncio.BaseTransport, count: int) -> None:
        asyncio.get_running_loop().call_later(_IDLE_SECONDS, self._close_if_idle, transport, count)

    def _close_if_idle(self, transport: asyncio.BaseTransport, count: int) -> None:
        if self.requests.get(transport) == count and not transport.is_closing():
            # close(), not abort(): an answer still being written is flushed first.
            transport.close()
            self.closed += 1


@pytest.fixture
async def mixed_upstream() -> AsyncIterator[tuple[str, _IdleCloser]]:
    closer = _IdleCloser()

    @web.middleware
    async def idle_closing(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        transport, count = closer.arrived(request)
        try:
            return await handler(request)
        finally:
            # Timed from the end of the handler: the answer is written right after it.
            closer.answered(transport, count)

    app = web.Application(middlewares=[idle_closing])
    app.router.add_get("/r", _answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", closer
    await runner.cleanup()


async def test_every_request_gets_its_own_answer_under_concurrent_mixed_traffic(
    make_transport: MakeTransport, mixed_upstream: tuple[str, _IdleCloser]
) -> None:
    upstream, closer = mixed_upstream
    transport = make_transport()
    rng = random.Random(7)
    plan = [(rng.choice(_MODES), rng.choice((0, 10, 5000, 70000))) for _ in range(_REQUESTS)]
    answers: dict[int, str] = {}
    failures: dict[int, str] = {}
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def one(i: int, mode: str, pad: int) -> None:
        async with gate:
            try:
                response = await transport.request(
                    "GET",
                    f"{upstream}/r?id={i}&mode={mode}&pad={pad}",
                    headers={},
                    body=None,
                    timeout=10,
                    follow_redirects=False,
                    max_body=1_000_000,
                )
            except TransportError as exc:
                failures[i] = str(exc)
                return
            answers[i] = json.loads(response.body)["id"]

    async def waves() -> None:
        # Bursts of varying width with pauses around the upstream's idle time between them, so
        # pooled connections are picked as the upstream closes them.
        start = 0
        while start < _REQUESTS:
            width = rng.randint(1, 2 * _CONCURRENCY)
            batch = range(start, min(start + width, _REQUESTS))
            await asyncio.gather(*(one(i, *plan[i]) for i in batch))
            start = batch.stop
            await asyncio.sleep(rng.uniform(0.6, 1.4) * _IDLE_SECONDS)

    await asyncio.wait_for(waves(), 60)

    crossed = {i: got for i, got in answers.items() if got != str(i)}
    assert crossed == {}
    aborted = {i for i, (mode, _) in enumerate(plan) if mode == "abort"}
    if isinstance(transport, Http1Transport):
        # Only the requests the upstream dropped on purpose may fail: a GET dropped on a reused
        # connection is sent again once, on a new one (the aborting upstream drops that too).
        # That is Baton's transport's own rule; aiohttp's client surfaces such drops.
        assert set(failures) <= aborted, {i: failures[i] for i in set(failures) - aborted}
    assert set(answers) | set(failures) == set(range(_REQUESTS))
    # The race this test is about happened: the upstream closed idle pooled connections.
    assert closer.closed > 0
