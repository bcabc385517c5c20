"""Putting a request head on the wire, refusing what would corrupt it.

The method, the target and every header travel as text lines: a CR or LF in a value would
start a header of the caller's choosing (request smuggling), a space in the target would split
the request line. Such a request is refused as unsendable, which no retry can mend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from baton import __version__
from baton.engine.http._decoding import ACCEPT_ENCODING
from baton.engine.http._tokens import TOKEN
from baton.engine.http.transport import TransportError

__all__ = ["USER_AGENT", "encode_head"]

USER_AGENT = f"baton/{__version__}"

_TARGET = re.compile(r"[\x21-\x7e]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
#: An empty body still gets ``Content-Length: 0`` for these: servers may refuse them without one.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Framing is the transport's job: a caller's value could disagree with the body it sends.
_FRAMING = frozenset({"content-length", "transfer-encoding"})
#: Names already checked to be tokens; callers send the same few names on every request.
_GOOD_NAMES: set[str] = set()


def encode_head(
    method: str,
    target: str,
    headers: Mapping[str, str],
    *,
    host: str,
    body: bytes | None,
    authorization: str | None = None,
) -> bytes:
    if method not in _KNOWN_METHODS and not TOKEN.fullmatch(method):
        raise TransportError(f"method {method!r} is not an HTTP token", unsendable=True)
    if not _TARGET.fullmatch(target):
        raise TransportError(
            "the URL holds a space, a control or a non-ASCII character; percent-encode it", unsendable=True
        )
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    seen: set[str] = set()
    for name, value in headers.items():
        if name not in _GOOD_NAMES:
            if not TOKEN.fullmatch(name):
                raise TransportError(f"header name {name!r} is not an HTTP token", unsendable=True)
            if len(_GOOD_NAMES) < 4096:
                _GOOD_NAMES.add(name)
        if _BAD_VALUE.search(value):
            # The value is not shown: it may be a secret.
            raise TransportError(f"header {name!r} holds a line break or NUL character", unsendable=True)
        lower = name.lower()
        if lower in _FRAMING:
            continue
        seen.add(lower)
        lines.append(f"{name}: {value}\r\n")
    if "host" not in seen:
        lines.insert(1, f"Host: {host}\r\n")
    if "user-agent" not in seen:
        lines.append(f"User-Agent: {USER_AGENT}\r\n")
    if "accept" not in seen:
        lines.append("Accept: */*\r\n")
    if "accept-encoding" not in seen:
        lines.append(f"Accept-Encoding: {ACCEPT_ENCODING}\r\n")
    if authorization is not None and "authorization" not in seen:
        lines.append(f"Authorization: {authorization}\r\n")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}\r\n")
    elif method in _BODY_METHODS:
        lines.append("Content-Length: 0\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")
