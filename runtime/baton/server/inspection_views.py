"""``GET /runs``, ``GET /runs/summary`` and ``GET /runs/{id}`` (JSON, or HTML for a browser)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from baton.json_text import JsonTextError
from baton.server.responses import ERROR_TYPES, Problem, json_response, problem_response
from baton.server.timeline_html import render_run

if TYPE_CHECKING:
    from baton.server.app import Server

__all__ = ["list_runs", "show_run", "summary"]

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
_OUTCOMES = ("running", "completed", "faulted", "cancelled")


def _bad(detail: str) -> web.Response:
    return problem_response(
        Problem(status=400, title="Invalid request", type=ERROR_TYPES + "validation", detail=detail)
    )


def list_runs(server: Server) -> Handler:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        query = request.query
        outcome = query.get("outcome")
        if outcome is not None and outcome not in _OUTCOMES:
            return _bad(f"outcome must be one of {', '.join(_OUTCOMES)}")
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            return _bad("limit must be an integer from 1 to 1000")
        records = server.runs.query(
            workflow=query.get("workflow"), version=query.get("version"), outcome=outcome, limit=limit
        )
        return json_response({"runs": [record.brief() for record in records]})

    return handle


def summary(server: Server) -> Handler:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        return json_response(server.runs.summary())

    return handle


def _wants_html(request: web.BaseRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and accept.find("text/html") < (
        accept.find("application/json") if "application/json" in accept else len(accept)
    )


def show_run(server: Server) -> Handler:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        run_id = request.path.removeprefix("/runs/")
        record = server.runs.get(run_id)
        if record is None:
            return problem_response(
                Problem(status=404, title="Not Found", detail=f"no run {run_id!r} in the recent history")
            )
        try:
            if _wants_html(request):
                return web.Response(text=render_run(record), content_type="text/html")
            return json_response(record.detail())
        except (RecursionError, JsonTextError):
            # Payloads are cut to a safe depth before they are shown; should some other part of
            # a run still be too deep to walk, the run is shown without its data, and says so.
            note = "this run's data is nested too deeply to show, or is not JSON; its timeline is left out"
            return json_response({**record.brief(), "timeline": [], "note": note})

    return handle
