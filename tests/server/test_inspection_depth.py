"""Inspection of runs whose data is nested deeper than Python can walk recursively.

The engine lets a task output of any depth a jq expression builds pass from task to task
(50,000 levels here are fine; only a run's own output is refused past ~980 levels, as
"Payload too deep"). ``GET /runs/{id}`` must still answer, as JSON and as HTML, with the deep
part cut off and said so, never a 500 with a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from baton.engine import RunEnvironment
from baton.server.inspection import SHOWN_DEPTH, shown
from tests.server._support import Reply, manifest, send, serving, write

#: Deeper than the interpreter's recursion limit (1000) by far.
DEEP = 5000


def _nest(depth: int) -> str:
    return "${ reduce range(" + str(depth) + ") as $i (0; [.]) }"


FLOWS: dict[str, list[dict[str, Any]]] = {
    # A deep task output that the next task replaces: the run completes.
    "mid": [{"deep": {"set": _nest(DEEP)}}, {"after": {"set": {"ok": True}}}],
    # A deep run output: the run faults with "Payload too deep", the task keeps its output.
    "final": [{"deep": {"set": _nest(DEEP)}}],
}


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    return depth


async def _inspect(
    tmp_path: Path, tasks: list[dict[str, Any]], *, secrets: bool
) -> tuple[Reply, Reply, Reply]:
    """Run the flow once; its run as JSON, as HTML, and the run listing."""
    top = {"use": {"secrets": ["api"]}} if secrets else {}
    spec = {"secrets": ["api"]} if secrets else {}
    write(tmp_path, "flow.yaml", manifest(tasks, document_top=top, **spec))
    env = RunEnvironment(secrets={"api": {"token": "tok-5ecret-value"}})
    async with env, serving([tmp_path], env=env) as (_, base), aiohttp.ClientSession() as client:
        reply = await send(client, "POST", base + "/flow", json={})
        run_id = reply.headers["X-Baton-Run-Id"]
        as_json = await send(client, "GET", f"{base}/runs/{run_id}")
        as_html = await send(client, "GET", f"{base}/runs/{run_id}", headers={"Accept": "text/html"})
        listing = await send(client, "GET", f"{base}/runs")
    return as_json, as_html, listing


def _assert_cut_off(as_json: Reply, as_html: Reply, listing: Reply, *, outcome: str) -> dict[str, Any]:
    assert (as_json.status, as_html.status, listing.status) == (200, 200, 200)
    detail: dict[str, Any] = as_json.json()
    assert detail["outcome"] == outcome
    deep = detail["timeline"][0]
    assert (deep["name"], deep["status"]) == ("deep", "completed")
    # Shown as deep as inspection shows anything, then a note instead of the rest.
    assert _depth(deep["output"]) == SHOWN_DEPTH
    assert f"nested deeper than {SHOWN_DEPTH} levels, not shown" in json.dumps(deep["output"])
    assert as_html.content_type == "text/html"
    assert f"nested deeper than {SHOWN_DEPTH} levels, not shown" in as_html.text
    for text in (as_json.text, as_html.text):
        assert "Traceback" not in text
        assert "RecursionError" not in text
    return detail


@pytest.mark.parametrize("secrets", [False, True], ids=["plain", "with-secrets"])
@pytest.mark.parametrize(("flow", "outcome"), [("mid", "completed"), ("final", "faulted")])
async def test_a_task_output_nested_past_the_recursion_limit_is_shown_cut_off_as_json_and_html(
    tmp_path: Path, flow: str, outcome: str, secrets: bool
) -> None:
    as_json, as_html, listing = await _inspect(tmp_path, FLOWS[flow], secrets=secrets)
    detail = _assert_cut_off(as_json, as_html, listing, outcome=outcome)
    if outcome == "faulted":
        assert detail["error"]["status"] == 500


@pytest.mark.parametrize("secrets", [False, True], ids=["plain", "with-secrets"])
async def test_the_deepest_run_output_the_engine_lets_through_is_shown_cut_off(
    tmp_path: Path, secrets: bool
) -> None:
    # How deep a run's output may be depends on the stack the server runs on: find it.
    low, high = SHOWN_DEPTH, 1000
    while low < high:
        middle = (low + high + 1) // 2
        as_json, _, _ = await _inspect(tmp_path, [{"deep": {"set": _nest(middle)}}], secrets=secrets)
        low, high = (middle, high) if as_json.json()["outcome"] == "completed" else (low, middle - 1)
    assert low > SHOWN_DEPTH + 100
    as_json, as_html, listing = await _inspect(tmp_path, [{"deep": {"set": _nest(low)}}], secrets=secrets)
    detail = _assert_cut_off(as_json, as_html, listing, outcome="completed")
    assert _depth(detail["output"]) == SHOWN_DEPTH


def test_shown_cuts_containers_past_the_depth_and_keeps_everything_above() -> None:
    value: Any = {"a": [1, {"b": "x"}], "c": None}
    assert shown(value, depth=3) == value
    assert shown(value, depth=2) == {"a": [1, "… nested deeper than 2 levels, not shown"], "c": None}
    assert shown("scalar", depth=0) == "scalar"
    deep: Any = 0
    for _ in range(100_000):
        deep = {"k": deep}
    cut = shown(deep, depth=3)
    assert cut == {"k": {"k": {"k": "… nested deeper than 3 levels, not shown"}}}


async def test_a_run_that_still_cannot_be_walked_is_shown_without_its_data(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"small": {"set": {"ok": True}}}]))
    async with serving([tmp_path]) as (server, base), aiohttp.ClientSession() as client:
        reply = await send(client, "POST", base + "/flow", json={})
        run_id = reply.headers["X-Baton-Run-Id"]
        record = server.runs.get(run_id)
        assert record is not None
        assert record.report is not None

        def too_deep() -> Any:
            raise RecursionError("maximum recursion depth exceeded")

        record.report.timeline = too_deep  # a part of a run no view can walk
        as_json = await send(client, "GET", f"{base}/runs/{run_id}")
        as_html = await send(client, "GET", f"{base}/runs/{run_id}", headers={"Accept": "text/html"})
    for reply in (as_json, as_html):
        assert reply.status == 200
        body = reply.json()
        assert (body["id"], body["outcome"], body["timeline"]) == (run_id, "completed", [])
        assert "nested too deeply to show" in body["note"]
