"""Secrets are redacted by value everywhere a run is reported; calls authenticate per spec."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from aiohttp import web

from baton.engine import REDACTED, FakeClock, RunEnvironment
from tests.engine._support import run, upstream


async def _whoami(request: web.Request) -> web.Response:
    return web.json_response({"authorization": request.headers.get("Authorization")})


def _get(url: str, authentication: Any) -> dict[str, Any]:
    return {
        "call": "http",
        "with": {"method": "get", "endpoint": {"uri": url, "authentication": authentication}},
    }


async def test_secret_values_are_redacted_from_records_and_errors_wherever_they_flow() -> None:
    async with RunEnvironment(secrets={"api": {"token": "s3cr3t-token-value"}}) as env:
        result = await run(
            [
                {"build": {"set": {"header": '${ "Bearer " + $secrets.api.token }', "user": "${ .user }"}}},
                {
                    "fail": {
                        "raise": {
                            "error": {
                                "type": "https://example.com/x",
                                "status": 400,
                                "detail": "${ .header }",
                            }
                        }
                    }
                },
            ],
            {"user": "ann"},
            env=env,
            use={"secrets": ["api"]},
        )
    record = result.timeline.find("build")[0]
    assert record.output == {"header": f"Bearer {REDACTED}", "user": "ann"}
    assert result.error is not None
    assert result.error.detail == f"Bearer {REDACTED}"
    dumped = json.dumps(result.timeline.to_dict()) + json.dumps(result.to_dict(timeline=True)["error"])
    assert "s3cr3t-token-value" not in dumped
    assert result.timeline.find("fail")[0].input == {"header": f"Bearer {REDACTED}", "user": "ann"}


async def test_undeclared_secrets_are_not_visible_to_the_workflow() -> None:
    async with RunEnvironment(secrets={"api": "value-1234"}) as env:
        result = await run([{"peek": {"set": {"s": "${ $secrets }"}}}], env=env)
    assert result.output == {"s": {}}


async def test_basic_authentication_sends_the_rendered_credentials(env: RunEnvironment) -> None:
    async with upstream({("GET", "/me"): _whoami}) as up:
        result = await run(
            [
                {
                    "login": _get(
                        up.url("/me"), {"basic": {"username": "${ .username }", "password": "${ .password }"}}
                    )
                }
            ],
            {"username": "serverless-workflow", "password": "conformance-test"},
            env=env,
        )
    expected = base64.b64encode(b"serverless-workflow:conformance-test").decode()
    assert result.output == {"authorization": f"Basic {expected}"}


async def test_bearer_authentication_from_a_declared_secret_never_appears_in_the_timeline() -> None:
    async with (
        RunEnvironment(secrets={"petstoreToken": {"token": "tok-98765"}}) as env,
        upstream({("GET", "/me"): _whoami}) as up,
    ):
        result = await run(
            [{"call": {**_get(up.url("/me"), {"use": "petstore"}), "output": {"as": "${ {seen: true} }"}}}],
            env=env,
            use={
                "secrets": ["petstoreToken"],
                "authentications": {"petstore": {"bearer": {"use": "petstoreToken"}}},
            },
        )
        sent = up.requests[0]["headers"]["Authorization"]
    assert sent == "Bearer tok-98765"
    assert "tok-98765" not in json.dumps(result.timeline.to_dict())


async def test_oauth2_client_credentials_fetches_one_token_for_many_calls() -> None:
    token_requests: list[dict[str, str]] = []

    async def token(request: web.Request) -> web.Response:
        token_requests.append(dict(await request.post()))  # type: ignore[arg-type]
        return web.json_response(
            {"access_token": f"at-{len(token_requests)}", "token_type": "Bearer", "expires_in": 600}
        )

    clock = FakeClock()
    async with (
        upstream({("POST", "/realms/r/oauth2/token"): token, ("GET", "/me"): _whoami}) as up,
        RunEnvironment(clock=clock) as env,
    ):
        oauth = {
            "oauth2": {
                "authority": up.url("/realms/r"),
                "grant": "client_credentials",
                "client": {"id": "runtime", "secret": "client-secret-1"},
                "scopes": ["api", "read"],
                "audiences": ["runtime"],
            }
        }
        tasks = [{f"call{i}": _get(up.url("/me"), {"use": "idp"})} for i in range(3)]
        first = await run(tasks, env=env, use={"authentications": {"idp": oauth}})
        second = await run(tasks, env=env, use={"authentications": {"idp": oauth}})
        clock.advance(3600)
        third = await run(tasks[:1], env=env, use={"authentications": {"idp": oauth}})
    assert first.status == second.status == "completed", first.error
    assert first.output == second.output == {"authorization": "Bearer at-1"}
    assert len(token_requests) == 2  # once for six calls, once more after the token expired
    assert third.output == {"authorization": "Bearer at-2"}
    assert token_requests[0] == {
        "grant_type": "client_credentials",
        "client_id": "runtime",
        "client_secret": "client-secret-1",
        "scope": "api read",
        "audience": "runtime",
    }


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"[" * 3000 + b"]" * 3000, "answered no usable JSON: arrays and objects are nested deeper than 128"),
        (b'{"access_token": "t", "expires_in": 1e999}', "answered no usable JSON: 1e999 is out of range"),
        (b"<html>login</html>", "answered no usable JSON: Expecting value at line 1, column 1"),
        (b'["t"]', "answered without an access_token"),
    ],
    ids=["nested", "infinite-lifetime", "html", "not-an-object"],
)
async def test_a_token_endpoint_answer_that_is_not_a_token_is_an_authentication_fault(
    answer: bytes, reason: str
) -> None:
    async def token(request: web.Request) -> web.Response:
        return web.Response(body=answer, content_type="application/json")

    async with (
        upstream({("POST", "/realms/r/oauth2/token"): token, ("GET", "/me"): _whoami}) as up,
        RunEnvironment() as env,
    ):
        oauth = {
            "oauth2": {
                "authority": up.url("/realms/r"),
                "grant": "client_credentials",
                "client": {"id": "runtime", "secret": "client-secret-1"},
            }
        }
        tasks = [{"me": _get(up.url("/me"), {"use": "idp"})}]
        result = await run(tasks, env=env, use={"authentications": {"idp": oauth}})
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type.endswith("/authentication")
    assert reason in (result.error.detail or "")
    assert [r for r in up.requests if r["path"] == "/me"] == []


async def test_oidc_discovers_the_token_endpoint_from_the_authority(env: RunEnvironment) -> None:
    hits = {"discovery": 0, "token": 0}

    async def discovery(request: web.Request) -> web.Response:
        hits["discovery"] += 1
        return web.json_response({"token_endpoint": f"http://127.0.0.1:{request.url.port}/connect/token"})

    async def token(request: web.Request) -> web.Response:
        hits["token"] += 1
        return web.json_response({"access_token": "oidc-token", "expires_in": 300})

    async with upstream(
        {
            ("GET", "/realm/.well-known/openid-configuration"): discovery,
            ("POST", "/connect/token"): token,
            ("GET", "/me"): _whoami,
        }
    ) as up:
        oidc = {
            "oidc": {
                "authority": up.url("/realm"),
                "grant": "client_credentials",
                "client": {"id": "c", "secret": "s"},
            }
        }
        result = await run([{"a": _get(up.url("/me"), oidc)}, {"b": _get(up.url("/me"), oidc)}], env=env)
    assert result.output == {"authorization": "Bearer oidc-token"}
    assert hits == {"discovery": 1, "token": 1}


async def test_a_refused_token_request_is_an_authentication_error(env: RunEnvironment) -> None:
    async def token(request: web.Request) -> web.Response:
        return web.json_response({"error": "invalid_client"}, status=401)

    async with upstream({("POST", "/oauth2/token"): token, ("GET", "/me"): _whoami}) as up:
        oauth = {
            "oauth2": {
                "authority": up.url(""),
                "grant": "client_credentials",
                "client": {"id": "c", "secret": "x"},
            }
        }
        result = await run([{"a": _get(up.url("/me"), oauth)}], env=env)
    assert result.error is not None
    assert result.error.type.endswith("/authentication")
    assert result.error.status == 401
    assert result.error.instance == "/do/0/a"


async def test_concurrent_calls_needing_the_same_token_share_one_token_request(env: RunEnvironment) -> None:
    requests = {"n": 0}
    branches_started = _Count(5)

    async def token(request: web.Request) -> web.Response:
        requests["n"] += 1
        # Answer only once every branch has started, and so is waiting on this token too.
        await branches_started.reached.wait()
        return web.json_response({"access_token": "shared", "expires_in": 600})

    async with upstream({("POST", "/oauth2/token"): token, ("GET", "/me"): _whoami}) as up:
        oauth = {
            "oauth2": {
                "authority": up.url(""),
                "grant": "client_credentials",
                "client": {"id": "c", "secret": "s"},
            }
        }
        branches = [{f"b{i}": _get(up.url("/me"), {"use": "idp"})} for i in range(5)]
        result = await run(
            [{"fan": {"fork": {"branches": branches}}}],
            env=env,
            observers=[branches_started],
            use={"authentications": {"idp": oauth}},
        )
    assert result.status == "completed", result.error
    assert result.output == [{"authorization": "Bearer shared"}] * 5
    assert requests["n"] == 1


class _Count:
    """A run observer whose event is set when ``target`` branch tasks (``b0``...) have started."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.started = 0
        self.reached = asyncio.Event()

    def on_task_start(self, record: Any) -> None:
        if record.name.startswith("b"):
            self.started += 1
            if self.started == self.target:
                self.reached.set()


async def test_a_secret_in_a_refused_endpoint_is_redacted_even_with_quotes_and_backslashes() -> None:
    key = "k'ey\\with\"quotes"
    async with RunEnvironment(secrets={"api": {"key": key}}) as env:
        result = await run(
            [
                {
                    "send": {
                        "call": "http",
                        "with": {"method": "get", "endpoint": '${ "ftp://x/?k=" + $secrets.api.key }'},
                    }
                }
            ],
            env=env,
            use={"secrets": ["api"]},
        )
    assert result.error is not None
    detail = result.error.detail or ""
    assert "not an absolute http(s) URI" in detail
    assert REDACTED in detail
    assert "with" not in detail
