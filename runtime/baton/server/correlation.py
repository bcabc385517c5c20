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
]

REQUEST_ID_HEADER = "X-Request-ID"
RUN_ID_HEADER = "X-Baton-Run-Id"

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
#: A request id is echoed into logs and headers: printable ASCII without spaces, bounded.
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")


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
        tracestate = headers.get("tracestate") if traceparent is not None else None
        return cls(request_id, traceparent, tracestate.strip() if tracestate else None)

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
