"""The default transport as a workflow meets it: through ``call: http`` and the run's error."""

from __future__ import annotations

from baton.engine import REDACTED, Http1Transport, RunEnvironment
from tests.engine._support import run
from tests.engine.http._upstream import upstream
from tests.engine.http.test_contract import ok


async def test_a_run_environment_uses_the_lean_transport_unless_given_another() -> None:
    async with RunEnvironment() as env:
        assert isinstance(env.transport, Http1Transport)


async def test_a_non_ascii_secret_in_an_endpoint_is_a_400_unsendable_request_with_the_secret_hidden() -> None:
    secret = "cl\u00e9-\u4e2d"
    async with upstream(ok) as server, RunEnvironment(secrets={"api": {"key": secret}}) as env:
        endpoint = '${ "' + server.url + '/pets?key=" + $secrets.api.key }'
        result = await run(
            [{"send": {"call": "http", "with": {"method": "get", "endpoint": endpoint}}}],
            env=env,
            use={"secrets": ["api"]},
        )
    assert result.error is not None
    assert (result.error.status, result.error.title) == (400, "Request not sendable")
    detail = result.error.detail or ""
    assert "percent-encode" in detail
    assert secret not in detail
    assert REDACTED in detail
    assert server.requests == []
