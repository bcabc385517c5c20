"""Liveness, readiness and the metrics exposition."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from baton.server.metrics import CONTENT_TYPE_LATEST
from baton.server.responses import json_response

if TYPE_CHECKING:
    from baton.server.app import Server

__all__ = ["healthz", "metrics", "readyz"]

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


def healthz(server: Server) -> Handler:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        # Alive as long as the loop answers: a wedged loop cannot answer this at all.
        return json_response({"status": "ok"})

    return handle


def readyz(server: Server) -> Handler:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        definitions = server.router.definitions
        ready = server.accepting and bool(definitions)
        body = {
            "status": "ready" if ready else ("shutting down" if not server.accepting else "no definitions"),
            "definitions": [
                {"workflow": d.name, "version": d.version, "weight": d.weight, "file": d.file}
                for d in definitions
            ],
            "refused": [str(problem) for problem in server.registry.problems],
            "inFlight": server.in_flight,
        }
        return json_response(body, status=200 if ready else 503)

    return handle


def metrics(server: Server) -> Handler:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        response = web.Response(body=server.metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return handle
