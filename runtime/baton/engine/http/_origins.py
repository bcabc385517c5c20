"""Splitting a request URL into where to connect and what to put on the request line.

Calls reach the same few upstreams over and over, so the authority part is parsed once per
distinct ``scheme://authority`` and cached; only the path and query are cut per request.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from urllib.parse import unquote

from baton.engine.http.transport import TransportError

__all__ = ["Origin", "shown_url", "split_url"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request goes: the pool key, the ``Host`` header, and credentials from the URL."""

    scheme: str
    host: str
    port: int
    host_header: str
    authorization: str | None

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


def split_url(url: str) -> tuple[Origin, str]:
    """``(origin, request target)``; a URL that cannot be requested is ``TransportError(unsendable)``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise TransportError(f"{shown_url(url)!r} is not an absolute http(s) URL", unsendable=True)
    end = len(rest)
    for mark in "/?#":
        at = rest.find(mark)
        if at != -1 and at < end:
            end = at
    target = rest[end:].split("#", 1)[0]
    if not target.startswith("/"):
        target = "/" + target
    return _origin(scheme, rest[:end]), target


@functools.lru_cache(maxsize=512)
def _origin(scheme: str, authority: str) -> Origin:
    scheme = scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise TransportError(f"scheme {scheme!r} is not http or https", unsendable=True)
    authorization = None
    userinfo, at, hostport = authority.rpartition("@")
    if at:
        user, _, password = userinfo.partition(":")
        pair = f"{unquote(user)}:{unquote(password)}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    if hostport.startswith("["):
        close = hostport.find("]")
        if close == -1:
            raise TransportError(f"host {hostport!r} has an unclosed IPv6 bracket", unsendable=True)
        host, port_text = hostport[1:close], hostport[close + 1 :]
        if port_text and not port_text.startswith(":"):
            raise TransportError(f"host {hostport!r} is not host:port", unsendable=True)
        port_text = port_text[1:]
    else:
        host, _, port_text = hostport.partition(":")
    if not host:
        raise TransportError(f"URL {scheme}://{hostport} names no host", unsendable=True)
    if not port_text:
        port = _DEFAULT_PORTS[scheme]
    elif port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise TransportError(f"port {port_text!r} of {hostport!r} is not a port number", unsendable=True)
    host = host.lower()
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise TransportError(f"host {host!r} is not a valid host name", unsendable=True) from exc
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == _DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    return Origin(scheme, host, port, host_header, authorization)


def shown_url(url: str) -> str:
    """``url`` as an error message may name it: where a request went, never what it carried
    (no query, no userinfo), cut to 200 characters."""
    scheme, sep, rest = url.split("?", 1)[0].partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        rest = authority.rpartition("@")[2] + slash + path
    return (scheme + sep + rest)[:200]
