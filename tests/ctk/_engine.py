"""Runs one compiled scenario plan on Baton's engine and records an engine-neutral ``Outcome``.

Phases as a user would have them: ``baton.dsl`` loads and validates the document (a task kind
Baton does not execute is reported there, and the scenario is skipped with that finding),
``baton.engine`` compiles and runs it. HTTP goes through the engine's real default transport;
the kit's public hosts are mapped to the local stand-ins, and any other host is refused before
a connection is attempted, so a scenario can never reach the internet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from baton.dsl import load_document, validate
from baton.engine import RunEnvironment, compile_workflow
from baton.engine.http import Http1Transport, HttpResponse, TransportError
from tests.ctk._steps import Outcome, Plan, TaskRun

__all__ = ["LoopbackOnlyTransport", "Unsupported", "execute"]

RUN_TIMEOUT_S = 30.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class Unsupported(Exception):
    """The scenario uses a task kind Baton reports as not supported."""


class LoopbackOnlyTransport:
    """The engine's transport with the stand-in host map, refusing every non-loopback target."""

    def __init__(self, host_map: Mapping[str, str]) -> None:
        self._hosts = {host.lower() for host in host_map}
        self._inner = Http1Transport(host_map=host_map)
        self.requests: list[tuple[str, str]] = []

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,  # noqa: ASYNC109 - the HttpTransport protocol's signature
        follow_redirects: bool,
        max_body: int,
    ) -> HttpResponse:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._hosts and host not in _LOOPBACK:
            raise TransportError(f"the conformance tests never leave loopback; {host!r} has no stand-in")
        self.requests.append((method, url))
        return await self._inner.request(
            method,
            url,
            headers=headers,
            body=body,
            timeout=timeout,
            follow_redirects=follow_redirects,
            max_body=max_body,
        )

    async def close(self) -> None:
        await self._inner.close()


async def execute(plan: Plan, *, origin: str, host_map: Mapping[str, str]) -> Outcome:
    assert plan.definition is not None
    document = load_document(plan.definition, origin=origin)
    problems = validate(document)
    unsupported = [p for p in problems if p.severity == "unsupported"]
    if unsupported:
        raise Unsupported("; ".join(f"{p.path}: {p.message}" for p in unsupported))
    errors = [p for p in problems if p.severity != "unsupported"]
    assert not errors, "the kit's document is reported invalid: " + "; ".join(
        f"{p.path}: {p.message}" for p in errors
    )
    compiled = compile_workflow(document)
    async with RunEnvironment(transport=LoopbackOnlyTransport(host_map)) as env:
        result = await asyncio.wait_for(compiled.run(plan.input, env=env), timeout=RUN_TIMEOUT_S)
    return Outcome(
        status=result.status,
        output=result.output,
        error=None if result.error is None else result.error.to_dict(),
        tasks=[_task_run(record) for record in result.timeline],
    )


def _task_run(record: Any) -> TaskRun:
    return TaskRun(
        name=record.name,
        path=record.path,
        status=record.status,
        started=record.started_at,
        ended=record.ended_at,
        output=record.output,
        error=record.error,
    )
