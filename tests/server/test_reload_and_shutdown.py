"""Hot reload under load without a failed request, and graceful shutdown with runs in flight."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from baton.server import ServerConfig
from tests.server._support import Reply, call, json_after, manifest, send, serving, upstream, write


def _flow(url: str, version: str) -> dict[str, object]:
    # The version is read twice, before and after a slow call: a run that switched definitions
    # midway would answer with two different values.
    return manifest(
        [
            {"before": {"set": {"seen": version}}},
            {"slow": {**call(url), "export": {"as": "${ $context }"}, "output": {"as": "${ $input }"}}},
            {"after": {"set": f'${{ {{before: .seen, after: "{version}"}} }}'}},
        ],
        version=version,
    )


@pytest.mark.slow
async def test_a_changed_definition_is_swapped_in_under_load_without_a_failed_request(tmp_path: Path) -> None:
    async with upstream({"/slow": json_after(0.05, {})}) as up:
        path = write(tmp_path, "flow.yaml", _flow(up.url("/slow"), "1.0.0"))
        config = ServerConfig(reload_interval=0.05)
        async with serving([tmp_path], config=config) as (_, base), aiohttp.ClientSession() as client:
            replies: list[Reply] = []
            stop = asyncio.Event()

            async def client_loop() -> None:
                while not stop.is_set():
                    replies.append(await send(client, "POST", base + "/flow", json={}))

            loops = [asyncio.create_task(client_loop()) for _ in range(8)]
            await asyncio.sleep(0.4)
            write(tmp_path, "flow.yaml", _flow(up.url("/slow"), "2.0.0"))
            await asyncio.sleep(0.4)
            # An invalid change is refused; 2.0.0 keeps serving.
            path.write_text(path.read_text().replace("set:", "sett:", 1))
            await asyncio.sleep(0.4)
            stop.set()
            await asyncio.gather(*loops)
            ready = (await send(client, "GET", base + "/readyz")).json()
    assert len(replies) > 50
    assert {reply.status for reply in replies} == {200}
    for reply in replies:
        body = reply.json()
        assert body["before"] == body["after"] == reply.headers["X-Baton-Version"]
    versions = [reply.headers["X-Baton-Version"] for reply in replies]
    assert "1.0.0" in versions
    assert versions[-1] == "2.0.0"
    assert [d["version"] for d in ready["definitions"]] == ["2.0.0"]
    assert ready["refused"]
    assert all(str(path) in line and "spec.workflow.do[0]" in line for line in ready["refused"])


async def test_a_deleted_file_stops_serving_and_a_new_one_starts(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", manifest([{"a": {"set": {"a": 1}}}], name="old", path="/old"))
    config = ServerConfig(reload_interval=0.05)
    async with serving([tmp_path], config=config) as (_, base), aiohttp.ClientSession() as client:
        old.unlink()
        write(tmp_path, "new.yaml", manifest([{"a": {"set": {"a": 2}}}], name="new", path="/new"))
        for _ in range(100):
            if (await send(client, "POST", base + "/new", json={})).status == 200:
                break
            await asyncio.sleep(0.02)
        gone = await send(client, "POST", base + "/old", json={})
        new = await send(client, "POST", base + "/new", json={})
    assert gone.status == 404
    assert new.json() == {"a": 2}


async def test_shutdown_lets_in_flight_runs_finish_and_refuses_new_connections(tmp_path: Path) -> None:
    async with upstream({"/slow": json_after(0.4, {"done": True})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"slow": call(up.url("/slow"))}]))
        async with serving([tmp_path]) as (server, base), aiohttp.ClientSession() as client:
            in_flight = [asyncio.create_task(send(client, "POST", base + "/flow", json={})) for _ in range(5)]
            background = await send(
                client, "POST", base + "/flow", json={}, headers={"Prefer": "respond-async"}
            )
            await up.wait_for_requests(6)
            started = time.monotonic()
            stopping = asyncio.create_task(server.stop())
            await asyncio.sleep(0.1)
            async with aiohttp.ClientSession() as fresh:
                with pytest.raises(aiohttp.ClientConnectionError):
                    await send(fresh, "POST", base + "/flow", json={})
            replies = await asyncio.gather(*in_flight)
            await stopping
            took = time.monotonic() - started
            record = server.runs.get(background.headers["X-Baton-Run-Id"])
    assert [reply.status for reply in replies] == [200] * 5
    assert all(reply.json() == {"done": True} for reply in replies)
    assert record is not None
    assert record.outcome == "completed"  # the async run was waited for too
    assert took < 5


async def test_runs_past_the_grace_period_are_cancelled_and_recorded(tmp_path: Path) -> None:
    async with upstream({"/slow": json_after(3.0, {})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"slow": call(up.url("/slow"))}]))
        config = ServerConfig(reload_interval=0, grace_period=0.2)
        async with serving([tmp_path], config=config) as (server, base), aiohttp.ClientSession() as client:
            accepted = await send(
                client, "POST", base + "/flow", json={}, headers={"Prefer": "respond-async"}
            )
            await up.wait_for_requests(1)
            started = time.monotonic()
            await server.stop()
            took = time.monotonic() - started
            record = server.runs.get(accepted.headers["X-Baton-Run-Id"])
    assert took < 2
    assert record is not None
    assert record.outcome == "cancelled"


async def test_a_configmap_style_symlink_swap_is_seen_even_with_the_old_timestamp(tmp_path: Path) -> None:
    # Kubernetes updates a mounted ConfigMap by writing a new hidden folder and swapping the
    # `..data` symlink; the visible file is a symlink through it.
    import os

    import yaml

    def revision(name: str, version: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "workflow.yaml").write_text(
            yaml.safe_dump(manifest([{"a": {"set": {"v": version}}}], version=version))
        )
        return folder

    old = revision("..2026_01", "1.0.0")
    os.symlink(old.name, tmp_path / "..data")
    os.symlink("..data/workflow.yaml", tmp_path / "workflow.yaml")
    config = ServerConfig(reload_interval=0.05)
    async with serving([tmp_path], config=config) as (server, base), aiohttp.ClientSession() as client:
        assert (await send(client, "POST", base + "/flow", json={})).json() == {"v": "1.0.0"}
        new = revision("..2026_02", "2.0.0")
        stat = (old / "workflow.yaml").stat()
        os.utime(new / "workflow.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.symlink(new.name, tmp_path / "..data_tmp")
        os.replace(tmp_path / "..data_tmp", tmp_path / "..data")
        for _ in range(100):
            reply = await send(client, "POST", base + "/flow", json={})
            if reply.json() == {"v": "2.0.0"}:
                break
            await asyncio.sleep(0.02)
        files = [d.file for d in server.router.definitions]
    assert reply.json() == {"v": "2.0.0"}
    assert files == [str(tmp_path / "workflow.yaml")]  # the hidden revision folders are not read
