"""Baton's default upstream transport: a lean pooled HTTP/1.1 client.

A call's cost is dominated by its client when the upstream is fast: a general-purpose client
builds request and response objects, stream readers and tasks per request. This one writes the
request head as one buffer and parses the answer in the protocol callback (``_connection``),
which costs a third of the CPU per call on this project's benchmark.

Rules a caller can rely on:

- Keep-alive connections are pooled per origin under one total limit (``_pool``); an answer
  that says ``Connection: close``, an HTTP/1.0 answer and any failed exchange close theirs.
- A reused connection can have been closed by the upstream at the moment it was picked; when
  it dies before any byte of the answer, an idempotent request is sent again once on a new
  connection (net/http's rule). A POST is not: it may have been acted on. A connection found
  closed before the request was written is replaced for any method: nothing was sent.
- ``timeout`` bounds the whole request, connecting and redirects included.
- ``close()`` closes every connection; the transport stays usable and opens new ones.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Hashable, Mapping

from baton.engine.http._connection import Connection, ConnectionDropped, RawResponse
from baton.engine.http._decoding import decode
from baton.engine.http._hosts import HostMap
from baton.engine.http._origins import Origin, shown_url, split_url
from baton.engine.http._pool import Pool
from baton.engine.http._redirects import MAX_HOPS, REDIRECT_STATUSES, next_hop
from baton.engine.http._request_head import encode_head
from baton.engine.http.transport import HttpResponse, TransportError

__all__ = ["Http1Transport"]

#: Safe to send twice (RFC 9110 9.2.2): the retry after a dropped reused connection is harmless.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


class Http1Transport:
    """HTTP/1.1 over pooled keep-alive connections, parsed with ``httptools``."""

    def __init__(
        self,
        *,
        host_map: Mapping[str, str] | None = None,
        connection_limit: int = 256,
        idle_timeout: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._hosts = HostMap(host_map)
        self._pool = Pool(limit=connection_limit, idle_timeout=idle_timeout)
        self._ssl_context = ssl_context

    @property
    def pool(self) -> Pool:
        return self._pool

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,  # noqa: ASYNC109 - bounds connect, send, read and redirects together
        follow_redirects: bool,
        max_body: int,
    ) -> HttpResponse:
        if timeout is None:
            return await self._request(method, url, headers, body, follow_redirects, max_body, None)
        # One timer per request (asyncio.timeout() costs a third of a pooled call). It fails the
        # exchange in flight, or cancels this task while it connects or waits for a connection.
        task = asyncio.current_task()
        assert task is not None
        expiry = _Expiry(task, timeout)
        timer = asyncio.get_running_loop().call_later(timeout, expiry.fire)
        try:
            return await self._request(method, url, headers, body, follow_redirects, max_body, expiry)
        except asyncio.CancelledError as exc:
            if expiry.cancelled:
                task.uncancel()
            elif not expiry.collided:
                raise
            # The timeout wins over a cancellation falling due in the same instant (a run deadline
            # the call's timeout was cut to), as aiohttp's does: the call reports its timeout.
            raise expiry.error() from exc
        finally:
            timer.cancel()

    async def close(self) -> None:
        self._pool.close()

    async def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        follow_redirects: bool,
        max_body: int,
        expiry: _Expiry | None,
    ) -> HttpResponse:
        hop_method, hop_url, hop_headers, hop_body = method, url, headers, body
        for _ in range(MAX_HOPS + 1):
            raw = await self._send(hop_method, hop_url, hop_headers, hop_body, max_body, expiry)
            if not follow_redirects or raw.status not in REDIRECT_STATUSES or raw.location is None:
                break
            hop = next_hop(
                raw.status, raw.location, method=hop_method, url=hop_url, headers=hop_headers, body=hop_body
            )
            hop_method, hop_url, hop_headers, hop_body = hop.method, hop.url, hop.headers, hop.body
        else:
            raise TransportError(f"more than {MAX_HOPS} redirects, the last to {shown_url(hop_url)}")
        content = raw.body
        if raw.content_encoding and content:
            content = decode(content, raw.content_encoding, max_body=max_body)
        # The headers are the upstream's, Content-Encoding included, as aiohttp reports them.
        return HttpResponse(status=raw.status, reason=raw.reason, headers=raw.headers, body=content, url=url)

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        max_body: int,
        expiry: _Expiry | None,
    ) -> RawResponse:
        origin, target = split_url(self._hosts.rewrite(url) if self._hosts else url)
        data = encode_head(
            method, target, headers, host=origin.host_header, body=body, authorization=origin.authorization
        )
        if body:
            data += body
        head_only = method == "HEAD"
        pool = self._pool
        for attempt in (1, 2):
            if expiry is not None and expiry.fired:
                # Expired between two exchanges (a redirect, a retry): no new one starts.
                raise expiry.error()
            conn, reused = await pool.acquire(origin, self._connect, fresh=attempt == 2)
            if expiry is not None:
                expiry.conn = conn
            try:
                raw = await conn.exchange(data, head_only=head_only, max_body=max_body)
            except ConnectionDropped as exc:
                conn.close()
                if attempt == 2 or (exc.sent and (not reused or method not in _IDEMPOTENT)):
                    raise TransportError(f"{exc} before answering {method} {shown_url(url)}") from exc
                # The upstream closed an idle connection as it was picked, or the connection closed
                # before the request was written (which any method may retry): once more, on a new one.
                continue
            except BaseException:
                conn.close()
                raise
            finally:
                if expiry is not None:
                    expiry.conn = None
            pool.release(conn)
            return raw
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _connect(self, key: Hashable, on_close: Callable[[Connection], None]) -> Connection:
        assert isinstance(key, Origin)
        origin = key
        loop = asyncio.get_running_loop()
        context: ssl.SSLContext | None = None
        if origin.tls:
            context = self._ssl_context or _default_context()
        try:
            _, conn = await loop.create_connection(
                lambda: Connection(key, on_close),
                origin.host,
                origin.port,
                ssl=context,
                server_hostname=origin.host if context is not None else None,
            )
        except OSError as exc:
            # Refused, unreachable, DNS, TLS handshake and certificate failures alike.
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise TransportError(f"cannot connect to {origin.host_header}: {reason}") from exc
        return conn


class _Expiry:
    """A request's timeout: what to do when its timer fires depends on where the request is."""

    __slots__ = ("cancelled", "collided", "conn", "fired", "seconds", "task")

    def __init__(self, task: asyncio.Task[object], seconds: float) -> None:
        self.task = task
        self.seconds = seconds
        self.fired = False
        self.cancelled = False
        self.collided = False
        #: The connection whose answer the request awaits, if it is at that stage.
        self.conn: Connection | None = None

    def error(self) -> TransportError:
        # Made when needed: most requests never time out.
        return TransportError(f"timed out: no answer within {self.seconds:g}s", timed_out=True)

    def fire(self) -> None:
        self.fired = True
        if self.conn is not None:
            # Failing the awaited answer is exact: if it arrived first, the request is in time and
            # nothing is cancelled (a cancel then could land on the caller's next await instead).
            self.collided = self.conn.expire(self.error())
        else:
            self.cancelled = True
            self.task.cancel()


_CONTEXT: list[ssl.SSLContext] = []


def _default_context() -> ssl.SSLContext:
    # Loading the system's CA bundle takes milliseconds: done once, on the first https call.
    if not _CONTEXT:
        _CONTEXT.append(ssl.create_default_context())
    return _CONTEXT[0]
