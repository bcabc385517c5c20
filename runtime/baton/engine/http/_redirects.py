"""Which redirects are followed, and how the next request differs from the last (pure rules).

The method rules are Go's net/http ones, which browsers share for POST: 301, 302 and 303
turn the request into a body-less GET (a HEAD stays a HEAD), 307 and 308 repeat it as it was.
Credentials never follow a request to another origin: the redirecting server does not get
to choose who receives the caller's ``Authorization``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from baton.engine.http._origins import shown_url, split_url
from baton.engine.http.transport import TransportError

__all__ = ["MAX_HOPS", "REDIRECT_STATUSES", "Hop", "next_hop"]

MAX_HOPS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

#: Headers that describe the body; they go when the body goes.
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "transfer-encoding"})
#: Headers that carry the caller's identity; they stay with the origin they were meant for.
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True, slots=True)
class Hop:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


def next_hop(
    status: int, location: str, *, method: str, url: str, headers: Mapping[str, str], body: bytes | None
) -> Hop:
    """The request a ``status`` answer with ``location`` asks for, after the request it answered."""
    target = urljoin(url, location.strip())
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The upstream pointed somewhere no HTTP request can go: its fault, not the caller's.
        raise TransportError(f"redirect to {shown_url(target)!r}, which is not an http(s) URL")
    target = target.split("#", 1)[0]
    kept = dict(headers)
    if status in (301, 302, 303) and method != "HEAD":
        method, body = "GET", None
        kept = {k: v for k, v in kept.items() if k.lower() not in _BODY_HEADERS}
    # The same origin the pool keys connections by (scheme, lower-cased IDNA host, port); a
    # target it cannot parse is refused here as it would be when sent.
    if split_url(url)[0].key != split_url(target)[0].key:
        kept = {k: v for k, v in kept.items() if k.lower() not in _CREDENTIAL_HEADERS}
    return Hop(method, target, kept, body)
