"""Mutated JSON bodies get a 400 naming the problem or a run, never a 5xx or a logged error.

The bodies are valid JSON documents mutated at random (fixed seed, bounded count): bytes
flipped, inserted or dropped, and fragments spliced in that Python's ``json`` takes but JSON does
not (NaN, 1e999, unpaired surrogates, raw surrogate bytes, 5,000-digit numbers, deep brackets).
What passes intake goes to a real upstream that echoes it back labelled as JSON, so the answer
reader meets the same inputs.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.server._support import call, manifest, send, serving, upstream, write

SEEDS = [
    b'{"sku": "abc", "quantity": 2, "tags": ["x", {"y": [1.5, true, null]}]}',
    b'[1, 2, {"a": "\\u00e9\\ud83d\\ude00"}]',
    b'"text"',
    b"12345678901234567890",
    b"{}",
]
SPLICES = [
    b"\\ud800",
    b"1e999",
    b"NaN",
    b"-Infinity",
    b"[" * 200,
    b'"\\u0000"',
    b"\xed\xa0\x80",
    b"9" * 5000,
]
BODIES = 1500


def _mutate(rng: random.Random, data: bytes) -> bytes:
    body = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        at = rng.randrange(len(body) + 1)
        if choice < 0.3 and body:
            body[rng.randrange(len(body))] = rng.randrange(256)
        elif choice < 0.5:
            body.insert(at, rng.choice(b'[]{}",:\\-0123456789.eEnulltrueNaN\x00\xff'))
        elif choice < 0.7 and body:
            del body[rng.randrange(len(body))]
        elif choice < 0.85:
            body[at:at] = rng.choice(SPLICES)
        else:
            body[at:at] = body[: rng.randrange(len(body) + 1)]
    return bytes(body)


async def _echo(request: web.Request) -> web.StreamResponse:
    return web.Response(body=await request.read(), content_type="application/json")


@pytest.mark.timeout(120)
async def test_mutated_bodies_are_answered_400_or_run_and_nothing_is_logged_as_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(11)
    statuses: dict[int, int] = {}
    async with upstream({"/echo": _echo}) as up:
        tasks = [
            {"send": call(up.url("/echo"), method="post", body="${ . }")},
            {"shape": {"set": "${ {got: ., size: (tostring | length)} }"}},
        ]
        write(tmp_path, "flow.yaml", manifest(tasks))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            with caplog.at_level(logging.WARNING):
                for _ in range(BODIES):
                    body = _mutate(rng, rng.choice(SEEDS))
                    headers = {"Content-Type": "application/json"}
                    reply = await send(client, "POST", base + "/flow", data=body, headers=headers)
                    statuses[reply.status] = statuses.get(reply.status, 0) + 1
                    assert reply.status in (200, 400), (body[:200], reply.body[:300])
                    if reply.status == 400:
                        [error] = reply.json()["errors"]
                        assert error["detail"].startswith("the body is not valid JSON: ")
    assert [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING] == []
    # Both ways out were taken, so the test still says something if the mutations drift.
    assert statuses.get(200, 0) > 50
    assert statuses.get(400, 0) > 500
