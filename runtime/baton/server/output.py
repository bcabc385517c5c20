"""The ``envelope`` output contract: a workflow chooses its response's status, headers and body.

With ``spec.endpoint.output: envelope`` the workflow output must be an object
``{"status": 201, "headers": {"Location": "/orders/7"}, "body": {...}}`` (every key optional:
status 200, no headers, null body). A string body with a declared ``Content-Type`` is sent as
is; any other body is JSON. Headers that would break the framing or Baton's correlation
(``Content-Length``, ``Transfer-Encoding``, ``Connection``, ``X-Request-ID``, ``X-Baton-*``) are
refused, as is anything not shaped like the contract: a 500 problem, not a malformed answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from baton.server.responses import ERROR_TYPES, Problem, json_response, problem_response

__all__ = ["envelope_response"]

_RESERVED = frozenset({"content-length", "transfer-encoding", "connection", "x-request-id"})


def _refused(reason: str, headers: Mapping[str, str]) -> web.Response:
    return problem_response(
        Problem(
            status=500,
            title="Internal Server Error",
            type=ERROR_TYPES + "runtime",
            detail=f"The workflow output does not follow the envelope contract: {reason}.",
        ),
        headers=headers,
    )


def envelope_response(value: Any, headers: dict[str, str]) -> web.Response:
    if not isinstance(value, Mapping):
        return _refused("the output is not an object", headers)
    unknown = set(value) - {"status", "headers", "body"}
    if unknown:
        return _refused(f"unknown keys {sorted(unknown)}", headers)
    status = value.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        return _refused("status must be an integer from 200 to 599", headers)
    declared = value.get("headers") or {}
    if not isinstance(declared, Mapping):
        return _refused("headers must be an object", headers)
    out = dict(headers)
    for name, raw in declared.items():
        lowered = str(name).lower()
        if lowered in _RESERVED or lowered.startswith("x-baton-"):
            return _refused(f"header {name!r} is reserved", headers)
        if isinstance(raw, dict | list) or raw is None:
            return _refused(f"header {name!r} must be a string, number or boolean", headers)
        text = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if "\r" in text or "\n" in text:
            return _refused(f"header {name!r} holds a line break", headers)
        out[str(name)] = text
    body = value.get("body")
    content_type = next((v for k, v in out.items() if k.lower() == "content-type"), None)
    if status == 204 or (body is None and status >= 300 and status < 400):
        return web.Response(status=status, headers=out)
    if isinstance(body, str) and content_type is not None:
        return web.Response(status=status, headers=out, text=body)
    if content_type is not None:
        del out[next(k for k in out if k.lower() == "content-type")]
    return json_response(body, status=status, headers=out)
