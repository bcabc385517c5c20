"""Correlation: W3C trace context in, request id in or made up, run id out.

Incoming ``traceparent``/``tracestate`` are checked against the W3C format (a malformed one is
ignored as the recommendation says, not refused), then propagated on every upstream call, either
as is or, when tracing is on, as the child context of each call's client span.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "REQUEST_ID_HEADER",
    "RUN_ID_HEADER",
    "Correlation",
    "new_run_id",
    "parse_traceparent",
    "parse_tracestate",
]

REQUEST_ID_HEADER = "X-Request-ID"
RUN_ID_HEADER = "X-Baton-Run-Id"

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
#: A request id is echoed into logs and headers: printable ASCII without spaces, bounded.
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
#: One W3C tracestate list-member: a simple or multi-tenant key, "=", a value.
_TRACESTATE_MEMBER = re.compile(
    r"^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})"
    r"=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$"
)
_TRACESTATE_MEMBERS = 32


@dataclass(frozen=True, slots=True)
class TraceParent:
    version: str
    trace_id: str
    parent_id: str
    flags: str

    def header(self) -> str:
        return f"{self.version}-{self.trace_id}-{self.parent_id}-{self.flags}"


def parse_traceparent(value: str | None) -> TraceParent | None:
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    if version == "00" and rest:
        return None
    return TraceParent(version, trace_id, parent_id, flags)


def parse_tracestate(values: list[str]) -> str | None:
    """The ``tracestate`` to propagate, or None: W3C says to drop the whole of an invalid one.

    Checked because it is otherwise sent on as is to every upstream: up to 8 KB of anything a
    client wrote. Several headers are one list, as the recommendation says; empty members
    (``a=1,,b=2``) are dropped; more than 32 members, a repeated key or a malformed member
    drops it all. (With tracing on, OpenTelemetry's propagator applies the same rules.)
    """
    members: list[str] = []
    keys: set[str] = set()
    for value in values:
        for part in value.split(","):
            member = part.strip(" \t")
            if not member:
                continue
            if not _TRACESTATE_MEMBER.match(member):
                return None
            key = member.partition("=")[0]
            if key in keys:
                return None
            keys.add(key)
            members.append(member)
    if not members or len(members) > _TRACESTATE_MEMBERS:
        return None
    return ",".join(members)


def new_run_id() -> str:
    """128 random bits as 32 hex digits (the shape of a uuid4 hex, at a fifth of its cost)."""
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Correlation:
    request_id: str
    traceparent: TraceParent | None
    tracestate: str | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Correlation:
        request_id = headers.get(REQUEST_ID_HEADER)
        if request_id is None or not _REQUEST_ID.match(request_id):
            request_id = secrets.token_hex(16)
        traceparent = parse_traceparent(headers.get("traceparent"))
        tracestate = None
        if traceparent is not None and "tracestate" in headers:
            getall = getattr(headers, "getall", None)
            values = list(getall("tracestate")) if getall is not None else [headers["tracestate"]]
            tracestate = parse_tracestate(values)
        return cls(request_id, traceparent, tracestate)

    @property
    def trace_id(self) -> str | None:
        return None if self.traceparent is None else self.traceparent.trace_id

    def call_headers(self) -> dict[str, str]:
        """Headers every upstream call carries (tracing may replace the trace context per call)."""
        headers = {REQUEST_ID_HEADER: self.request_id}
        if self.traceparent is not None:
            headers["traceparent"] = self.traceparent.header()
            if self.tracestate:
                headers["tracestate"] = self.tracestate
        return headers
