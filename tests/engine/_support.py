"""Helpers for engine tests: documents from task lists, and real aiohttp upstreams on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from baton.engine import CompiledWorkflow, Limits, RunEnvironment, RunResult, compile_workflow

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def document(tasks: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "document": {"dsl": "1.0.3", "namespace": "test", "name": "under-test", "version": "1.0.0"},
        "do": tasks,
    }
    doc.update(top)
    return doc


def compiled(tasks: list[dict[str, Any]], *, limits: Limits | None = None, **top: Any) -> CompiledWorkflow:
    return compile_workflow(document(tasks, **top), limits=limits)


async def run(
    tasks: list[dict[str, Any]],
    data: Any = None,
    *,
    env: RunEnvironment,
    limits: Limits | None = None,
    observers: Sequence[Any] = (),
    **top: Any,
) -> RunResult:
    return await compiled(tasks, limits=limits, **top).run(data, env=env, observers=observers)


@dataclass
class Upstream:
    """A real HTTP server on 127.0.0.1 that records every request it answers."""

    server: TestServer
    requests: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str) -> str:
        # Not make_url: it would percent-encode the braces of URI templates.
        return f"http://127.0.0.1:{self.server.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r["path"] == path)


@asynccontextmanager
async def upstream(routes: dict[tuple[str, str], Handler]) -> AsyncIterator[Upstream]:
    app = web.Application()
    holder: dict[str, Upstream] = {}

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        holder["u"].requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": body,
            }
        )
        return await handler(request)

    app.middlewares.append(record)
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    holder["u"] = Upstream(server)
    try:
        yield holder["u"]
    finally:
        await server.close()
