"""A manifest becomes an endpoint: output, faults as problem+json, versions, methods."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.server._support import call, json_after, manifest, serving, upstream, write


async def test_a_completed_run_answers_200_with_the_output_and_run_headers(
    tmp_path: Path,
) -> None:
    async with upstream({"/users/7": json_after(0, {"name": "Ada"})}) as up:
        write(
            tmp_path,
            "flow.yaml",
            manifest(
                [{"getUser": {**call(up.url("/users/{id}")), "output": {"as": "${ {user: .name} }"}}}],
                path="/users",
            ),
        )
        async with serving([tmp_path]) as (server, base), aiohttp.ClientSession() as client:
            async with client.post(base + "/users", json={"id": 7}) as response:
                assert response.status == 200
                assert response.content_type == "application/json"
                assert await response.json() == {"user": "Ada"}
                assert response.headers["X-Baton-Version"] == "1.0.0"
                run_id = response.headers["X-Baton-Run-Id"]
                assert len(response.headers["X-Request-ID"]) >= 16
            assert server.runs.get(run_id) is not None
