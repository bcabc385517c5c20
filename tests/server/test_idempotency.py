"""Idempotency-Key: replay without a second run, conflicts, waiting duplicates, expiry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from baton.server import InMemoryIdempotencyStore, StoredResponse
from baton.server.idempotency import Claimed, Conflict
from tests.server._support import call, json_after, manifest, send, serving, upstream, write


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _flow(tmp_path: Path, url: str, *, ttl: int = 60) -> None:
    write(
        tmp_path,
        "flow.yaml",
        manifest(
            [{"charge": {**call(url, method="post", body="${ . }"), "output": {"as": "${ {charged: .n} }"}}}],
            idempotency={"ttlSeconds": ttl},
        ),
    )


async def test_a_retried_request_replays_the_first_response_without_a_second_run(tmp_path: Path) -> None:
    hits = 0

    async def charge(request: web.Request) -> web.StreamResponse:
        nonlocal hits
        hits += 1
        return web.json_response({"n": hits})

    async with upstream({"/charge": charge}) as up:
        _flow(tmp_path, up.url("/charge"))
        async with serving([tmp_path]) as (server, base), aiohttp.ClientSession() as client:
            headers = {"Idempotency-Key": "order-1"}
            first = await send(client, "POST", base + "/flow", json={"amount": 5}, headers=headers)
            again = await send(client, "POST", base + "/flow", json={"amount": 5}, headers=headers)
            runs = len(server.runs)
    assert first.status == again.status == 200
    assert first.body == again.body == b'{"charged":1}'
    assert dict(first.headers) == dict(again.headers)  # same run id, request id, version, date
    assert hits == 1
    assert runs == 1


async def test_the_same_key_with_a_different_body_is_422(tmp_path: Path) -> None:
    async with upstream({"/charge": json_after(0, {"n": 1})}) as up:
        _flow(tmp_path, up.url("/charge"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            headers = {"Idempotency-Key": "order-2"}
            await send(client, "POST", base + "/flow", json={"amount": 5}, headers=headers)
            other = await send(client, "POST", base + "/flow", json={"amount": 6}, headers=headers)
    assert other.status == 422
    assert other.content_type == "application/problem+json"
    assert "order-2" in other.json()["detail"]
    assert len(up.requests) == 1


async def test_a_concurrent_duplicate_waits_for_the_first_and_gets_its_response(tmp_path: Path) -> None:
    async with upstream({"/charge": json_after(0.3, {"n": 1})}) as up:
        _flow(tmp_path, up.url("/charge"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            headers = {"Idempotency-Key": "order-3"}
            replies = await asyncio.gather(
                *(send(client, "POST", base + "/flow", json={"amount": 5}, headers=headers) for _ in range(5))
            )
    assert {reply.status for reply in replies} == {200}
    assert len({reply.headers["X-Baton-Run-Id"] for reply in replies}) == 1
    assert len(up.requests) == 1


async def test_a_key_runs_again_after_it_expires(tmp_path: Path) -> None:
    clock = FakeClock()
    store = InMemoryIdempotencyStore(clock=clock)
    async with upstream({"/charge": json_after(0, {"n": 1})}) as up:
        _flow(tmp_path, up.url("/charge"), ttl=30)
        async with serving([tmp_path], idempotency=store) as (_, base), aiohttp.ClientSession() as client:
            headers = {"Idempotency-Key": "order-4"}
            first = await send(client, "POST", base + "/flow", json={}, headers=headers)
            clock.now += 29
            replay = await send(client, "POST", base + "/flow", json={}, headers=headers)
            clock.now += 2
            rerun = await send(client, "POST", base + "/flow", json={}, headers=headers)
    assert replay.headers["X-Baton-Run-Id"] == first.headers["X-Baton-Run-Id"]
    assert rerun.headers["X-Baton-Run-Id"] != first.headers["X-Baton-Run-Id"]
    assert len(up.requests) == 2


async def test_a_refused_request_does_not_use_up_its_key(tmp_path: Path) -> None:
    async with upstream({"/charge": json_after(0, {"n": 1})}) as up:
        _flow(tmp_path, up.url("/charge"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            headers = {"Idempotency-Key": "order-5", "Content-Type": "text/plain"}
            refused = await send(client, "POST", base + "/flow", data=b"x", headers=headers)
            accepted = await send(
                client, "POST", base + "/flow", json={}, headers={"Idempotency-Key": "order-5"}
            )
    assert refused.status == 400
    assert accepted.status == 200


async def test_a_fault_is_replayed_like_a_success(tmp_path: Path) -> None:
    async with upstream({"/charge": json_after(0, {}, status=500)}) as up:
        _flow(tmp_path, up.url("/charge"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            headers = {"Idempotency-Key": "order-6"}
            first = await send(client, "POST", base + "/flow", json={}, headers=headers)
            again = await send(client, "POST", base + "/flow", json={}, headers=headers)
    assert first.status == again.status == 502
    assert first.body == again.body
    assert len(up.requests) == 1


async def test_a_released_key_lets_a_waiting_duplicate_take_over() -> None:
    store = InMemoryIdempotencyStore()
    assert isinstance(await store.claim("k", "fp"), Claimed)
    waiter = asyncio.create_task(store.claim("k", "fp"))
    await asyncio.sleep(0)
    assert not waiter.done()
    await store.release("k")
    assert isinstance(await waiter, Claimed)
    assert isinstance(await store.claim("k", "other"), Conflict)
    response = StoredResponse(200, (("A", "b"),), b"{}")
    await store.complete("k", response, ttl=5)
    assert await store.claim("k", "fp") == response


@pytest.mark.parametrize("key", ["", "x" * 256])
async def test_a_malformed_key_is_refused(tmp_path: Path, key: str) -> None:
    write(tmp_path, "flow.yaml", manifest([{"noop": {"set": {"a": 1}}}]))
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        reply = await send(client, "POST", base + "/flow", json={}, headers={"Idempotency-Key": key})
    assert reply.status == 400


async def test_a_client_that_disconnects_does_not_cancel_its_run_and_its_retry_gets_the_answer(
    tmp_path: Path,
) -> None:
    # A run may be a saga halfway through: cancelling it when the client goes away would leave
    # it half done. It finishes, is recorded, and the client's retry with its key is answered
    # from the store without a second charge.
    hits = 0
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def charge(request: web.Request) -> web.StreamResponse:
        nonlocal hits
        hits += 1
        arrived.set()
        await release.wait()
        return web.json_response({"n": hits})

    async with upstream({"/charge": charge}) as up:
        _flow(tmp_path, up.url("/charge"))
        async with serving([tmp_path]) as (server, base):
            port = int(base.rsplit(":", 1)[1])
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /flow HTTP/1.1\r\nHost: baton\r\nContent-Type: application/json\r\n"
                b"Idempotency-Key: order-gone\r\nContent-Length: 2\r\n\r\n{}"
            )
            await writer.drain()
            await asyncio.wait_for(arrived.wait(), 5)
            writer.transport.abort()  # the client goes away mid-run
            release.set()
            async with aiohttp.ClientSession() as client:
                for _ in range(100):  # the run ends as soon as the upstream answers
                    if server.runs.summary()["succeeded"] == 1:
                        break
                    await asyncio.sleep(0.02)
                retry = await send(
                    client, "POST", base + "/flow", json={}, headers={"Idempotency-Key": "order-gone"}
                )
    assert hits == 1
    assert retry.status == 200
    assert retry.json() == {"charged": 1}
