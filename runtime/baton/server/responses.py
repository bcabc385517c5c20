"""HTTP answers: problem+json for faults, and the workflow output contract for results.

Faults are mapped by error *type* (the Serverless Workflow standard types), never by message, and
what reaches the client is chosen here, field by field: engine-made errors keep only a generic
detail, so transport messages, stack details, upstream bodies and secrets never leave the process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from baton.json_text import encode_json

__all__ = [
    "ERROR_TYPES",
    "PROBLEM_JSON",
    "ErrorLike",
    "Problem",
    "Violation",
    "json_response",
    "problem_for_error",
    "problem_response",
    "redact_text",
    "status_for_error",
]

PROBLEM_JSON = "application/problem+json"
ERROR_TYPES = "https://serverlessworkflow.io/spec/1.0.0/errors/"

#: Status by standard error kind. "not found" is not a DSL kind: it is a communication error whose
#: upstream answered 404, or an error a workflow raises with status 404.
_STATUS_BY_KIND: Mapping[str, int] = {
    "validation": 400,
    "expression": 500,
    "configuration": 500,
    "authentication": 401,
    "authorization": 403,
    "timeout": 504,
    "communication": 502,
    "runtime": 500,
}

_TITLE_BY_STATUS: Mapping[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

#: Kinds whose title and detail were written by the workflow's author (a ``raise`` task or an
#: input check), so they are meant for the client. Everything else is worded here.
_AUTHORED_KINDS = frozenset({"validation", "authentication", "authorization"})

_GENERIC_DETAIL: Mapping[str, str] = {
    "timeout": "The run did not finish within its deadline.",
    "communication": "An upstream service could not be reached or answered with an error.",
    "runtime": "The run failed.",
    "expression": "The run failed while evaluating the workflow.",
    "configuration": "The workflow is misconfigured.",
}


class ErrorLike(Protocol):
    """What the server reads from an engine error: the spec's problem-details fields."""

    @property
    def type(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def detail(self) -> str | None: ...
    @property
    def instance(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Violation:
    """One reason a request was refused, with where (a JSON pointer into the body) when known."""

    message: str
    pointer: str | None = None

    def as_json(self) -> dict[str, str]:
        out = {"detail": self.message}
        if self.pointer is not None:
            out["pointer"] = self.pointer
        return out


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem document."""

    status: int
    title: str
    type: str = "about:blank"
    detail: str | None = None
    instance: str | None = None
    errors: Sequence[Violation] = ()
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if self.instance:
            out["instance"] = self.instance
        if self.errors:
            out["errors"] = [violation.as_json() for violation in self.errors]
        out.update(self.extensions)
        return out


def _kind(error_type: str) -> str:
    if error_type.startswith(ERROR_TYPES):
        return error_type[len(ERROR_TYPES) :]
    return ""


def status_for_error(error: ErrorLike) -> int:
    """The HTTP status a run fault answers with."""
    kind = _kind(error.type)
    if kind == "communication" and error.status == 404:
        return 404
    if kind in _STATUS_BY_KIND:
        return _STATUS_BY_KIND[kind]
    # A workflow's own error type: its status, when it is a fault status, is the author's choice.
    if error.status is not None and 400 <= error.status <= 599:
        return error.status
    return 500


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return text


def problem_for_error(error: ErrorLike, *, secrets: Iterable[str] = ()) -> Problem:
    """The client's view of a run fault: type, status, a safe title and detail, the task."""
    status = status_for_error(error)
    kind = _kind(error.type)
    authored = kind in _AUTHORED_KINDS or (not kind and status < 500)
    if authored:
        title = error.title or _TITLE_BY_STATUS.get(status, "Error")
        detail = error.detail
    else:
        title = _TITLE_BY_STATUS.get(status, "Error")
        detail = _GENERIC_DETAIL.get(kind, "The run failed.")
    values = tuple(secrets)
    return Problem(
        status=status,
        title=redact_text(title, values),
        type=error.type,
        detail=redact_text(detail, values) if detail else None,
        instance=error.instance,
    )


def _dumps(body: Any) -> bytes:
    # Strict: NaN, Infinity or an unpaired surrogate raise JsonTextError instead of being
    # written as text no JSON parser accepts.
    return encode_json(body)


def _response(body: bytes, status: int, headers: Mapping[str, str] | None, content_type: str) -> web.Response:
    # Content-Type set as a plain header: aiohttp's content_type argument re-parses it per response.
    all_headers = {"Content-Type": content_type}
    if headers:
        all_headers.update(headers)
    return web.Response(body=body, status=status, headers=all_headers)


def json_response(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return _response(_dumps(body), status, headers, "application/json")


def problem_response(problem: Problem, *, headers: Mapping[str, str] | None = None) -> web.Response:
    return _response(_dumps(problem.as_json()), problem.status, headers, PROBLEM_JSON)
