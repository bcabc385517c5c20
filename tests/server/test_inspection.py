"""Run inspection, async runs, health and metrics, over HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from baton.server import ServerConfig
from tests.server._support import call, json_after, manifest, send, serving, upstream, write


def _flows(tmp_path: Path, url: str) -> None:
    write(tmp_path, "ok.yaml", manifest([{"get": call(url)}], name="ok", path="/ok"))
    write(
        tmp_path,
        "bad.yaml",
        manifest(
            [
                {
                    "fail": {
                        "raise": {
                            "error": {"type": "https://example.com/errors/nope", "status": 409, "title": "No"}
                        }
                    }
                }
            ],
            name="bad",
            path="/bad",
        ),
    )


async def test_runs_are_listed_newest_first_and_filtered_by_workflow_version_and_outcome(
    tmp_path: Path,
) -> None:
    async with upstream({"/a": json_after(0, {"v": 1})}) as up:
        _flows(tmp_path, up.url("/a"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            ids = []
            for path in ("/ok", "/bad", "/ok"):
                ids.append((await send(client, "POST", base + path, json={})).headers["X-Baton-Run-Id"])
            everything = (await send(client, "GET", base + "/runs")).json()["runs"]
            ok = (await send(client, "GET", base + "/runs?workflow=ok")).json()["runs"]
            faulted = (await send(client, "GET", base + "/runs?outcome=faulted")).json()["runs"]
            none = (await send(client, "GET", base + "/runs?version=9.9.9")).json()["runs"]
            bad_filter = await send(client, "GET", base + "/runs?outcome=exploded")
    assert [run["id"] for run in everything] == ids[::-1]
    assert [run["id"] for run in ok] == [ids[2], ids[0]]
    assert [(run["id"], run["status"]) for run in faulted] == [(ids[1], 409)]
    assert none == []
    assert bad_filter.status == 400


async def test_a_run_shows_its_output_and_timeline_or_its_error(tmp_path: Path) -> None:
    async with upstream({"/a": json_after(0, {"v": 1})}) as up:
        _flows(tmp_path, up.url("/a"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            ok_id = (await send(client, "POST", base + "/ok", json={"in": 1})).headers["X-Baton-Run-Id"]
            bad_id = (await send(client, "POST", base + "/bad", json={})).headers["X-Baton-Run-Id"]
            ok = (await send(client, "GET", f"{base}/runs/{ok_id}")).json()
            bad = (await send(client, "GET", f"{base}/runs/{bad_id}")).json()
            missing = await send(client, "GET", f"{base}/runs/nope")
    assert ok["outcome"] == "completed"
    assert ok["output"] == {"v": 1}
    assert [(t["name"], t["kind"], t["status"]) for t in ok["timeline"]] == [("get", "call", "completed")]
    assert ok["timeline"][0]["input"] == {"in": 1}
    assert ok["timeline"][0]["endMs"] >= ok["timeline"][0]["startMs"]
    assert bad["outcome"] == "faulted"
    assert bad["error"]["type"] == "https://example.com/errors/nope"
    assert bad["error"]["status"] == 409
    assert "output" not in bad
    assert missing.status == 404


async def test_a_browser_gets_the_run_as_a_timeline_chart(tmp_path: Path) -> None:
    async with upstream({"/a": json_after(0, {"v": "<script>alert(1)</script>"})}) as up:
        _flows(tmp_path, up.url("/a"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            run_id = (await send(client, "POST", base + "/ok", json={})).headers["X-Baton-Run-Id"]
            page = await send(client, "GET", f"{base}/runs/{run_id}", headers={"Accept": "text/html,*/*"})
    assert page.content_type == "text/html"
    assert "<div class=bar" in page.text
    assert run_id in page.text
    assert "<script>alert" not in page.text  # user data is escaped
    assert "&lt;script&gt;" in page.text


async def test_the_summary_counts_runs_and_names_recent_failures(tmp_path: Path) -> None:
    async with upstream({"/a": json_after(0, {})}) as up:
        _flows(tmp_path, up.url("/a"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            for path in ("/ok", "/ok", "/bad"):
                await send(client, "POST", base + path, json={})
            summary = (await send(client, "GET", base + "/runs/summary")).json()
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (3, 2, 1)
    assert summary["p50Ms"] is not None
    assert summary["lastRun"]["workflow"] == "bad"
    assert summary["recentFailures"][0]["error"] == {"type": "https://example.com/errors/nope", "status": 409}
    per = {(w["workflow"], w["version"]): (w["total"], w["failed"]) for w in summary["workflows"]}
    assert per == {("bad", "1.0.0"): (1, 1), ("ok", "1.0.0"): (2, 0)}


async def test_history_is_bounded_but_totals_are_not(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"a": {"set": {"a": 1}}}]))
    config = ServerConfig(reload_interval=0, history=5)
    async with serving([tmp_path], config=config) as (_, base), aiohttp.ClientSession() as client:
        for _ in range(12):
            await send(client, "POST", base + "/flow", json={})
        listed = (await send(client, "GET", base + "/runs")).json()["runs"]
        summary = (await send(client, "GET", base + "/runs/summary")).json()
    assert len(listed) == 5
    assert summary["total"] == 12


async def test_prefer_respond_async_answers_202_with_a_location_to_poll(tmp_path: Path) -> None:
    async with upstream({"/a": json_after(0.3, {"v": 1})}) as up:
        _flows(tmp_path, up.url("/a"))
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            accepted = await send(client, "POST", base + "/ok", json={}, headers={"Prefer": "respond-async"})
            location = accepted.headers["Location"]
            running = (await send(client, "GET", base + location)).json()
            for _ in range(100):
                done = (await send(client, "GET", base + location)).json()
                if done["outcome"] != "running":
                    break
                await asyncio.sleep(0.02)
    assert accepted.status == 202
    assert accepted.headers["Preference-Applied"] == "respond-async"
    assert location == f"/runs/{accepted.headers['X-Baton-Run-Id']}"
    assert running["outcome"] == "running"
    assert done["outcome"] == "completed"
    assert done["output"] == {"v": 1}


async def test_health_readiness_and_metrics(tmp_path: Path) -> None:
    async with upstream({"/a": json_after(0, {})}) as up:
        _flows(tmp_path, up.url("/a"))
        async with serving([tmp_path]) as (server, base), aiohttp.ClientSession() as client:
            await send(client, "POST", base + "/ok", json={})
            await send(client, "POST", base + "/bad", json={})
            healthz = await send(client, "GET", base + "/healthz")
            readyz = await send(client, "GET", base + "/readyz")
            metrics = (await send(client, "GET", base + "/metrics")).text
            server.accepting = False
            draining = await send(client, "GET", base + "/readyz")
            server.accepting = True
    assert healthz.status == 200
    assert readyz.status == 200
    assert {d["workflow"] for d in readyz.json()["definitions"]} == {"ok", "bad"}
    assert draining.status == 503
    assert 'baton_runs_total{outcome="completed",version="1.0.0",workflow="ok"} 1.0' in metrics
    assert 'baton_runs_total{outcome="faulted",version="1.0.0",workflow="bad"} 1.0' in metrics
    assert 'baton_upstream_calls_total{outcome="2xx",workflow="ok"} 1.0' in metrics
    assert 'baton_task_duration_seconds_count{kind="call",workflow="ok"} 1.0' in metrics
    assert 'baton_runs_in_flight{workflow="ok"} 0.0' in metrics
    assert "baton_run_duration_seconds_bucket" in metrics
    # The operator reads metrics with the Prometheus parser and tells restarts by `_created`.
    samples = [sample for family in text_string_to_metric_families(metrics) for sample in family.samples]
    created = [s for s in samples if s.name == "baton_runs_created"]
    assert {s.labels["workflow"] for s in created} == {"ok", "bad"}
    assert all(s.value > 1.7e9 for s in created)
    duration_created = [s for s in samples if s.name == "baton_run_duration_seconds_created"]
    assert {s.labels["workflow"] for s in duration_created} == {"ok", "bad"}


async def test_readiness_is_503_without_definitions(tmp_path: Path) -> None:
    from baton.server import Server

    server = Server([tmp_path], config=ServerConfig(reload_interval=0))
    port = await server.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as client:
            reply = await send(client, "GET", f"http://127.0.0.1:{port}/readyz")
    finally:
        await server.stop()
    assert reply.status == 503
    assert reply.json()["status"] == "no definitions"


async def test_inspection_paths_only_answer_get(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"a": {"set": {"a": 1}}}]))
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        reply = await send(client, "POST", base + "/runs", json={})
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"


async def test_an_admin_port_keeps_run_data_and_metrics_off_the_public_port(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"a": {"set": {"a": 1}}}]))
    config = ServerConfig(reload_interval=0, admin_port=0)
    async with serving([tmp_path], config=config) as (server, base), aiohttp.ClientSession() as client:
        run_id = (await send(client, "POST", base + "/flow", json={})).headers["X-Baton-Run-Id"]
        admin = f"http://127.0.0.1:{server.admin_port}"
        public = {
            path: (await send(client, "GET", base + path)).status
            for path in ("/runs", f"/runs/{run_id}", "/metrics", "/healthz", "/readyz")
        }
        private = {
            path: (await send(client, "GET", admin + path)).status
            for path in ("/runs", f"/runs/{run_id}", "/runs/summary", "/metrics", "/readyz", "/flow")
        }
    assert public == {"/runs": 404, f"/runs/{run_id}": 404, "/metrics": 404, "/healthz": 200, "/readyz": 200}
    assert private == {
        "/runs": 200,
        f"/runs/{run_id}": 200,
        "/runs/summary": 200,
        "/metrics": 200,
        "/readyz": 200,
        "/flow": 404,
    }
