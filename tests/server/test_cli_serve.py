"""``baton serve`` as a user runs it: a real process, refused definitions, SIGTERM while busy."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.server._support import call, json_after, manifest, send, upstream, write

_MAIN = "import sys; from baton.cli.main import main; sys.exit(main())"


async def test_an_invalid_definition_is_refused_at_start_with_validate_messages(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"oops": {"sett": {"a": 1}}}]))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _MAIN, "serve", str(tmp_path), "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert stdout == b""
    message = stderr.decode()
    assert f"{tmp_path / 'flow.yaml'}: spec.workflow.do[0]" in message
    assert "Traceback" not in message


@pytest.mark.parametrize("flag", ["--upstream-idle-timeout", "--body-timeout", "--send-timeout"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
async def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_refused_at_start(
    tmp_path: Path, flag: str, value: str
) -> None:
    write(tmp_path, "flow.yaml", manifest([{"a": {"set": {"a": 1}}}]))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _MAIN, "serve", str(tmp_path), "--port", "0", flag, value,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert stdout == b""
    assert f"{flag} must be a positive number of seconds, got {float(value)}" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_sigterm_lets_the_run_in_flight_finish_then_exits_0(tmp_path: Path) -> None:
    async with upstream({"/slow": json_after(0.5, {"done": True})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"slow": call(up.url("/slow"))}]))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _MAIN, "serve", str(tmp_path), "--port", "0", "--reload-interval", "0",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            banner = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
            base = banner["listening"]
            assert banner["serving"] == [
                {"method": "POST", "path": "/flow", "workflow": "under-test", "version": "1.0.0"}
            ]
            async with aiohttp.ClientSession() as client:
                in_flight = asyncio.create_task(send(client, "POST", base + "/flow", json={}))
                await up.wait_for_requests(1)
                process.send_signal(signal.SIGTERM)
                reply = await in_flight
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert reply.status == 200
    assert reply.json() == {"done": True}
    assert code == 0
