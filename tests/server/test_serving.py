"""A manifest becomes an endpoint: output, faults as problem+json, versions, methods."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.server._support import call, json_after, manifest, send, serving, upstream, write


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
            response = await send(client, "POST", base + "/users", json={"id": 7})
            assert response.status == 200
            assert response.content_type == "application/json"
            assert response.json() == {"user": "Ada"}
            assert response.headers["X-Baton-Version"] == "1.0.0"
            run_id = response.headers["X-Baton-Run-Id"]
            assert len(response.headers["X-Request-ID"]) >= 16
            assert server.runs.get(run_id) is not None


def _raise(kind: str, *, status: int, title: str, detail: str) -> dict[str, object]:
    return {
        "fail": {
            "raise": {
                "error": {
                    "type": f"https://serverlessworkflow.io/spec/1.0.0/errors/{kind}",
                    "status": status,
                    "title": title,
                    "detail": detail,
                }
            }
        }
    }


@pytest.mark.parametrize(
    ("kind", "raised_status", "answered"),
    [
        ("validation", 400, 400),
        ("authentication", 401, 401),
        ("authorization", 403, 403),
        ("timeout", 408, 504),
        ("communication", 500, 502),
        ("runtime", 500, 500),
    ],
)
async def test_a_fault_answers_problem_json_with_the_status_of_its_error_type(
    tmp_path: Path, kind: str, raised_status: int, answered: int
) -> None:
    write(tmp_path, "flow.yaml", manifest([_raise(kind, status=raised_status, title="T", detail="D")]))
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/flow", json={})
        assert response.status == answered
        assert response.content_type == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/" + kind)
        assert problem["status"] == answered
        assert problem["instance"] == "/do/0/fail"
        assert "X-Baton-Run-Id" in response.headers


async def test_upstream_failures_map_to_404_502_and_504_without_leaking_the_upstream(tmp_path: Path) -> None:
    async with upstream(
        {
            "/missing": json_after(0, {"secret-internal": "x"}, status=404),
            "/broken": json_after(0, {"trace": "Traceback ..."}, status=500),
            "/slow": json_after(2.0, {}),
        }
    ) as up:
        write(tmp_path, "a.yaml", manifest([{"get": call(up.url("/missing"))}], name="a", path="/a"))
        write(tmp_path, "b.yaml", manifest([{"get": call(up.url("/broken"))}], name="b", path="/b"))
        write(
            tmp_path,
            "c.yaml",
            manifest(
                [{"get": {**call(up.url("/slow")), "timeout": {"after": {"milliseconds": 100}}}}],
                name="c",
                path="/c",
            ),
        )
        async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
            for path, status in (("/a", 404), ("/b", 502), ("/c", 504)):
                response = await send(client, "POST", base + path, json={})
                assert response.status == status, path
                text = response.text
                assert "127.0.0.1" not in text
                assert str(up.port) not in text
                assert "Traceback" not in text
                assert "secret-internal" not in text


async def test_a_secret_in_an_authored_error_detail_is_redacted(tmp_path: Path) -> None:
    from baton.engine import RunEnvironment

    detail = '${ "token was " + $secrets.api.token }'
    write(
        tmp_path,
        "flow.yaml",
        manifest(
            [_raise("validation", status=400, title="Bad", detail=detail)],
            document_top={"use": {"secrets": ["api"]}},
            secrets=["api"],
        ),
    )
    env = RunEnvironment(secrets={"api": {"token": "s3cr3t-value"}})
    async with env, serving([tmp_path], env=env) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/flow", json={})
    assert response.status == 400
    assert "s3cr3t-value" not in response.text
    assert "***" in response.json()["detail"]


async def test_the_envelope_contract_sets_status_headers_and_body(tmp_path: Path) -> None:
    envelope = {"status": 201, "headers": {"Location": "/orders/7"}, "body": {"id": 7}}
    write(
        tmp_path,
        "flow.yaml",
        manifest([{"answer": {"set": envelope}}], endpoint={"output": "envelope"}),
    )
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/flow", json={})
        assert response.status == 201
        assert response.headers["Location"] == "/orders/7"
        assert response.json() == {"id": 7}


async def test_an_envelope_that_breaks_the_contract_is_a_500_problem(tmp_path: Path) -> None:
    write(
        tmp_path,
        "flow.yaml",
        manifest(
            [{"answer": {"set": {"status": 200, "headers": {"X-Request-ID": "forged"}}}}],
            endpoint={"output": "envelope"},
        ),
    )
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/flow", json={})
        assert response.status == 500
        assert "is reserved" in (response.json())["detail"]
        assert response.headers["X-Request-ID"] != "forged"


async def test_unknown_paths_are_404_and_wrong_methods_405_with_allow(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"noop": {"set": {"a": 1}}}]))
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/nope", json={})
        assert response.status == 404
        assert response.content_type == "application/problem+json"
        response = await send(client, "GET", base + "/flow")
        assert response.status == 405
        assert response.headers["Allow"] == "POST"


async def test_a_get_endpoint_takes_its_input_from_the_query(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"echo": {"set": "${ {q: .q, tags: .tag} }"}}], method="GET"))
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "GET", base + "/flow?q=x&tag=a&tag=b")
        assert response.status == 200
        assert response.json() == {"q": "x", "tags": ["a", "b"]}


def _versioned(version: str, weight: int) -> dict[str, object]:
    return manifest(
        [{"answer": {"set": {"served": version}}}],
        version=version,
        annotations={"baton.dev/weight": str(weight)},
    )


async def test_the_version_header_pins_a_version_and_is_recorded_on_the_run(tmp_path: Path) -> None:
    write(tmp_path, "v1.yaml", _versioned("1.0.0", 100))
    write(tmp_path, "v2.yaml", _versioned("2.0.0", 0))
    async with serving([tmp_path]) as (_server, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/flow", json={}, headers={"X-Baton-Version": "2.0.0"})
        assert response.json() == {"served": "2.0.0"}
        assert response.headers["X-Baton-Version"] == "2.0.0"
        run_id = response.headers["X-Baton-Run-Id"]
        response = await send(client, "GET", f"{base}/runs/{run_id}")
        run = response.json()
        assert (run["version"], run["routedBy"]) == ("2.0.0", "header")
        response = await send(client, "POST", base + "/flow", json={}, headers={"X-Baton-Version": "9.9.9"})
        assert response.status == 404
        assert "9.9.9" in (response.json())["detail"]


async def test_weights_split_traffic_between_versions(tmp_path: Path) -> None:
    write(tmp_path, "v1.yaml", _versioned("1.0.0", 75))
    write(tmp_path, "v2.yaml", _versioned("2.0.0", 25))
    counts = {"1.0.0": 0, "2.0.0": 0}
    async with serving([tmp_path]) as (server, base), aiohttp.ClientSession() as client:
        for _ in range(400):
            response = await send(client, "POST", base + "/flow", json={})
            counts[response.headers["X-Baton-Version"]] += 1
        runs = server.runs.query(version="2.0.0", limit=1000)
    assert 50 <= counts["2.0.0"] <= 150, counts  # 25% of 400 = 100; bounds are > 5 sigma wide
    assert all(run.routed_by == "weight" for run in runs)
    assert len(runs) == counts["2.0.0"]


async def test_a_canary_in_one_manifest_is_served_beside_the_stable_version(tmp_path: Path) -> None:
    canary = {
        "workflow": manifest([{"answer": {"set": {"served": "canary"}}}], version="1.1.0")["spec"][
            "workflow"
        ],
        "weight": 100,
    }
    write(
        tmp_path,
        "flow.yaml",
        manifest([{"answer": {"set": {"served": "stable"}}}], rollout={"canary": canary}),
    )
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/flow", json={})
        assert response.json() == {"served": "canary"}  # stable weight is 100 - 100 = 0
        response = await send(client, "POST", base + "/flow", json={}, headers={"X-Baton-Version": "1.0.0"})
        assert response.json() == {"served": "stable"}
