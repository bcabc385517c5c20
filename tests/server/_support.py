"""Real pieces for server tests: upstream HTTP servers and a Baton server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

from baton.server import Server, ServerConfig

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Upstream:
    """A real HTTP server on loopback that records every request it receives."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for_requests(self, count: int) -> None:
        async with asyncio.timeout(5), self.arrived:
            await self.arrived.wait_for(lambda: len(self.requests) >= count)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def seen(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


def json_after(delay: float, body: Any, *, status: int = 200) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        if delay:
            await asyncio.sleep(delay)
        return web.json_response(body, status=status)

    return handle


@asynccontextmanager
async def upstream(routes: dict[str, Handler]) -> AsyncIterator[Upstream]:
    """Serve ``routes`` (path -> handler, any method) on 127.0.0.1; record each request."""
    record = Upstream()

    @web.middleware
    async def recorder(request: web.Request, handler: Handler) -> web.StreamResponse:
        entry = {
            "path": request.path,
            "method": request.method,
            "headers": dict(request.headers),
            "body": await request.read(),
            "at": time.monotonic(),
        }
        record.requests.append(entry)
        async with record.arrived:
            record.arrived.notify_all()
        try:
            return await handler(request)
        finally:
            entry["done"] = time.monotonic()

    app = web.Application(middlewares=[recorder])
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    record.port = runner.addresses[0][1]
    try:
        yield record
    finally:
        await runner.cleanup()


def document(
    tasks: list[dict[str, Any]], *, name: str = "under-test", version: str = "1.0.0", **top: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "document": {"dsl": "1.0.3", "namespace": "test", "name": name, "version": version},
        "do": tasks,
    }
    doc.update(top)
    return doc


def manifest(
    tasks: list[dict[str, Any]],
    *,
    name: str = "under-test",
    path: str = "/flow",
    method: str = "POST",
    version: str = "1.0.0",
    endpoint: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
    document_top: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "baton.dev/v1alpha1",
        "kind": "Workflow",
        "metadata": meta,
        "spec": {
            "endpoint": {"method": method, "path": path, **(endpoint or {})},
            "workflow": document(tasks, name=name, version=version, **(document_top or {})),
            **spec,
        },
    }


def write(folder: Path, filename: str, *documents: dict[str, Any]) -> Path:
    path = folder / filename
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def call(uri: str, *, method: str = "get", **extra: Any) -> dict[str, Any]:
    return {"call": "http", "with": {"method": method, "endpoint": {"uri": uri}, **extra}}


@asynccontextmanager
async def serving(
    paths: Sequence[Path], *, config: ServerConfig | None = None, **kwargs: Any
) -> AsyncIterator[tuple[Server, str]]:
    server = Server(paths, config=config or ServerConfig(reload_interval=0), **kwargs)
    result = server.load()
    assert not result.problems, [str(p) for p in result.problems]
    port = await server.start("127.0.0.1", 0)
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        await server.stop()


@dataclass
class Reply:
    status: int
    headers: Any
    body: bytes
    content_type: str

    def json(self) -> Any:
        import json

        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


async def send(client: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Reply:
    async with client.request(method, url, **kwargs) as response:
        return Reply(response.status, response.headers, await response.read(), response.content_type)
