"""Policy gates before intake: API keys, bearer tokens, authorization rules, rate limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import aiohttp

from baton.engine import RunEnvironment
from baton.server import Server, ServerConfig
from tests.server._support import call, json_after, manifest, send, serving, upstream, write

SECRETS = {"api-keys": {"alice": "key-of-alice"}, "jwt-key": {"hs256": "a-long-shared-signing-key"}}


def _policy(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "baton.dev/v1alpha1", "kind": "Policy", "metadata": {"name": name}, "spec": spec}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any], key: str = "a-long-shared-signing-key") -> str:
    return _signed(json.dumps({"alg": "HS256", "typ": "JWT"}), json.dumps(claims), key)


def _signed(header: str, claims: str, key: str = "a-long-shared-signing-key") -> str:
    head = _b64(header.encode())
    body = _b64(claims.encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


async def _expect_statuses(
    client: aiohttp.ClientSession, base: str, cases: dict[str, tuple[str, int]]
) -> None:
    """Each named bearer token gets its status; a refusal has the error type of its check."""
    kinds = {401: "/authentication", 403: "/authorization"}
    for name, (token, status) in cases.items():
        headers = {"Authorization": f"Bearer {token}"}
        reply = await send(client, "POST", base + "/flow", json={}, headers=headers)
        assert reply.status == status, (name, reply.text)
        if status in kinds:
            assert reply.json()["type"].endswith(kinds[status]), name


async def test_an_api_key_policy_refuses_before_any_call_and_records_its_outcome(tmp_path: Path) -> None:
    async with upstream({"/a": json_after(0, {"ok": True})}) as up:
        write(tmp_path, "flow.yaml", manifest([{"a": call(up.url("/a"))}], policies=["keys"]))
        write(tmp_path, "policy.yaml", _policy("keys", authentication={"apiKey": {"secretRef": "api-keys"}}))
        env = RunEnvironment(secrets=SECRETS)
        async with env, serving([tmp_path], env=env) as (_, base), aiohttp.ClientSession() as client:
            missing = await send(client, "POST", base + "/flow", json={})
            wrong = await send(client, "POST", base + "/flow", json={}, headers={"X-API-Key": "nope"})
            assert up.requests == []
            right = await send(client, "POST", base + "/flow", json={}, headers={"X-API-Key": "key-of-alice"})
            run = (await send(client, "GET", f"{base}/runs/{right.headers['X-Baton-Run-Id']}")).json()
    assert missing.status == wrong.status == 401
    assert missing.json()["type"].endswith("/authentication")
    assert missing.headers["WWW-Authenticate"] == 'ApiKey realm="keys"'
    assert "key-of-alice" not in wrong.text
    assert right.status == 200
    assert run["policies"] == [
        {"policy": "keys", "check": "authentication", "allowed": True, "detail": "API key accepted"}
    ]


async def test_bearer_tokens_are_verified_and_authorization_rules_applied(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"a": {"set": {"a": 1}}}], policies=["jwt"]))
    write(
        tmp_path,
        "policy.yaml",
        _policy(
            "jwt",
            authentication={
                "bearer": {"issuer": "https://idp.test", "audiences": ["shop"], "secretRef": "jwt-key"}
            },
            authorization={"rules": [{"claims": {"tier": ["gold"]}, "scopes": ["orders:write"]}]},
        ),
    )
    now = time.time()
    good = {
        "iss": "https://idp.test",
        "aud": "shop",
        "sub": "u1",
        "tier": "gold",
        "scope": "orders:write x",
        "exp": now + 60,
    }
    cases = {
        "ok": (_jwt(good), 200),
        "no scope": (_jwt({**good, "scope": "orders:read"}), 403),
        "wrong claim": (_jwt({**good, "tier": "silver"}), 403),
        "expired": (_jwt({**good, "exp": now - 120}), 401),
        "issuer": (_jwt({**good, "iss": "https://evil.test"}), 401),
        "audience": (_jwt({**good, "aud": "other"}), 401),
        "signature": (_jwt(good, key="not-the-key"), 401),
        "garbage": ("abc", 401),
    }
    env = RunEnvironment(secrets=SECRETS)
    async with env, serving([tmp_path], env=env) as (_, base), aiohttp.ClientSession() as client:
        await _expect_statuses(client, base, cases)
        anonymous = await send(client, "POST", base + "/flow", json={})
    assert anonymous.status == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="jwt"'


async def test_hostile_bearer_tokens_are_refused_as_malformed_not_a_500_or_accepted(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"a": {"set": {"a": 1}}}], policies=["jwt"]))
    bearer = {"issuer": "https://idp.test", "audiences": ["shop"], "secretRef": "jwt-key"}
    write(tmp_path, "policy.yaml", _policy("jwt", authentication={"bearer": bearer}))
    claims = '{"iss": "https://idp.test", "aud": %s, "sub": "u1", "exp": %s}'
    later = str(int(time.time()) + 60)
    cases = {
        # Python's json recursed once per bracket before the signature was checked: a 500.
        "nested header": (_signed("[" * 3000 + "]" * 3000, claims % ('"shop"', later)), 401),
        # NaN compared false with the clock: a signed token with "exp": NaN never expired.
        "NaN expiry": (_signed('{"alg": "HS256"}', claims % ('"shop"', "NaN")), 401),
        # set() of a list holding an object raised TypeError: a 500.
        "odd audience": (_signed('{"alg": "HS256"}', claims % ('[{"x": 1}, "shop"]', later)), 200),
    }
    env = RunEnvironment(secrets=SECRETS)
    async with env, serving([tmp_path], env=env) as (_, base), aiohttp.ClientSession() as client:
        await _expect_statuses(client, base, cases)


async def test_a_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"a": {"set": {"a": 1}}}], policies=["slow-down"]))
    write(
        tmp_path,
        "policy.yaml",
        _policy("slow-down", rateLimit={"requestsPerSecond": 0.5, "burst": 2, "key": "global"}),
    )
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        statuses = [(await send(client, "POST", base + "/flow", json={})) for _ in range(3)]
        metrics = (await send(client, "GET", base + "/metrics")).text
    assert [r.status for r in statuses] == [200, 200, 429]
    assert statuses[2].headers["Retry-After"] == "2"
    assert 'baton_requests_refused_total{reason="rateLimit",workflow="under-test"} 1.0' in metrics


async def test_a_workflow_naming_a_missing_policy_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "flow.yaml", manifest([{"a": {"set": {"a": 1}}}], policies=["absent"]))
    result = Server([tmp_path], config=ServerConfig(reload_interval=0)).load()
    assert [(p.path, p.message) for p in result.problems] == [
        ("spec.policies", "policy 'absent' is not loaded (give its Policy manifest to baton serve)")
    ]
    assert not result.router.definitions
