"""Content-Encoding decoding with a ceiling on what comes out.

The limit is on decoded bytes: a few kilobytes of gzip can inflate to gigabytes, and it is
the inflated body that the engine would hold, parse and record.
"""

from __future__ import annotations

import zlib

from baton.engine.http.transport import TransportError

__all__ = ["ACCEPT_ENCODING", "decode"]

ACCEPT_ENCODING = "gzip, deflate"

_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS


def decode(body: bytes, content_encoding: str, *, max_body: int) -> bytes:
    """``body`` with its codings undone, last applied first; unknown codings are left as they are."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings or not body or any(c not in ("gzip", "x-gzip", "deflate") for c in codings):
        # A coding we did not ask for (br, zstd) is passed on untouched rather than guessed at.
        return body
    for coding in reversed(codings):
        body = _inflate(body, coding, max_body=max_body)
    return body


def _inflate(body: bytes, coding: str, *, max_body: int) -> bytes:
    if coding == "deflate":
        # "deflate" should be zlib-wrapped, but some servers send raw deflate; both are accepted.
        wbits = zlib.MAX_WBITS if body[:1] and (body[0] & 0x0F) == 8 and _zlib_header(body) else _RAW_DEFLATE
    else:
        wbits = _GZIP_OR_ZLIB
    out: list[bytes] = []
    size = 0
    rest = body
    try:
        while rest:
            inflater = zlib.decompressobj(wbits)
            pending = rest
            while pending:
                chunk = inflater.decompress(pending, max_body + 1 - size)
                size += len(chunk)
                if size > max_body:
                    raise TransportError(f"decoded response body is over {max_body} bytes", too_large=True)
                out.append(chunk)
                pending = inflater.unconsumed_tail
                if not chunk and pending:
                    break
            if not inflater.eof:
                raise TransportError(f"response body is truncated {coding} data")
            # gzip allows several members one after another; each is inflated in turn.
            rest = inflater.unused_data if coding != "deflate" else b""
    except zlib.error as exc:
        raise TransportError(f"response body is not valid {coding} data: {exc}") from exc
    return b"".join(out)


def _zlib_header(body: bytes) -> bool:
    return len(body) >= 2 and ((body[0] << 8) | body[1]) % 31 == 0
