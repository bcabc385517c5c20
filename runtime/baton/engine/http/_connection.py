"""One keep-alive HTTP/1.1 connection: a request, then its whole response, then the next.

Responses are parsed by ``httptools`` (llhttp, the parser uvicorn and Node use) straight from
``data_received``: no stream reader, no per-chunk task, which is where a general-purpose
client spends most of its time on small answers.

A connection is reused only when the answer said so (``should_keep_alive``), was read to its
end, and nothing else arrived after it. Any error closes it: a half-read connection is never
handed to the next request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

from baton.engine.http.transport import TransportError

__all__ = ["HEADER_COUNT_LIMIT", "HEAD_LIMIT", "Connection", "ConnectionDropped", "RawResponse"]

#: The largest response head accepted (status line and headers), like most servers' request limit.
HEAD_LIMIT = 64 * 1024
HEADER_COUNT_LIMIT = 256


class ConnectionDropped(TransportError):
    """The connection closed before any byte of the answer: the request may never have been read.

    ``sent`` is False when the connection was found closed before the request was written:
    then nothing reached the upstream, and any method may be sent again.
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class _Stop(Exception):
    """Raised inside a parser callback to stop parsing; the reason is kept on the connection."""


@dataclass(slots=True)
class RawResponse:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    content_encoding: str
    location: str | None


class Connection(asyncio.Protocol):
    """The protocol of one upstream connection; ``exchange`` sends a request and awaits its answer."""

    def __init__(self, key: Hashable, on_close: Callable[[Connection], None]) -> None:
        self.key = key
        self.idle_since = 0.0
        self._on_close: Callable[[Connection], None] | None = on_close
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._parser = HttpResponseParser(self)
        self._stale_parser = False
        self._closed = False
        self._keep_alive = False
        self._waiter: asyncio.Future[RawResponse] | None = None
        self._error: TransportError | None = None
        self._head_only = False
        self._max_body = 0
        self._begin()

    def _begin(self) -> None:
        self._received = 0
        self._head_done = False
        self._complete = False
        self._framed = False
        self._interim = False
        self._reset_message()

    def _reset_message(self) -> None:
        self._reason: list[bytes] = []
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._head_size = 0
        self._body: list[bytes] = []
        self._size = 0
        self._headers: dict[str, str] = {}
        self._content_encoding = ""
        self._location: str | None = None

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def reusable(self) -> bool:
        transport = self._transport
        return self._keep_alive and not self._closed and transport is not None and not transport.is_closing()

    # --- the client's side

    async def exchange(self, data: bytes, *, head_only: bool, max_body: int) -> RawResponse:
        """Send one whole request and return its answer; any failure closes the connection."""
        transport = self._transport
        if self._closed or transport is None or transport.is_closing():
            raise ConnectionDropped("the connection was closed before the request was sent", sent=False)
        if self._stale_parser:
            # The last answer was to a HEAD: llhttp still expects the body it announced.
            self._parser = HttpResponseParser(self)
            self._stale_parser = False
        self._begin()
        self._head_only = head_only
        self._max_body = max_body
        self._keep_alive = False
        self._error = None
        waiter: asyncio.Future[RawResponse] = self._loop.create_future()
        self._waiter = waiter
        try:
            transport.write(data)
            return await waiter
        except BaseException:
            # Cancelled or failed mid-answer: what is left on the wire belongs to no one.
            self.close()
            raise
        finally:
            self._waiter = None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._keep_alive = False
            if self._transport is not None:
                self._transport.abort()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(self._error or TransportError("the connection was closed by the client"))
        self._notify_closed()

    def expire(self, error: TransportError) -> bool:
        """Fail the answer being awaited, if it has not arrived, and close the connection.

        True also when the wait was cancelled an instant ago and the awaiting task has not
        resumed yet (a run deadline falling due together with this timeout).
        """
        waiter = self._waiter
        if waiter is None:
            return False
        if not waiter.done():
            self._fail(error)
            return True
        return waiter.cancelled()

    def _notify_closed(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close(self)

    def _fail(self, error: TransportError) -> None:
        self._error = error
        self.close()

    # --- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            # Bytes nobody asked for: the upstream is out of step, the next request cannot trust it.
            self._keep_alive = False
            if waiter is None:
                self.close()
            return
        self._received += len(data)
        try:
            self._parser.feed_data(data)
        except HttpParserUpgrade:
            self._fail(self._error or TransportError("the upstream switched protocols, which no call asks"))
        except HttpParserError as exc:
            self._fail(self._error or TransportError(f"malformed response from the upstream: {exc}"))
        else:
            if not self._head_done and self._received > HEAD_LIMIT:
                self._fail(TransportError(f"response head is over {HEAD_LIMIT} bytes"))

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._keep_alive = False
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            cause = f": {exc}" if exc else ""
            if self._head_done and not self._framed and not self._complete:
                # No Content-Length and not chunked: the body is everything up to the close.
                self._finish()
            elif self._received == 0:
                waiter.set_exception(
                    ConnectionDropped(f"the upstream closed the connection{cause}", sent=True)
                )
            else:
                waiter.set_exception(
                    TransportError(f"the upstream closed the connection mid-response{cause}")
                )
        self._transport = None
        self._notify_closed()

    # --- httptools callbacks

    def _stop(self, error: TransportError) -> None:
        self._error = error
        raise _Stop(str(error))

    def on_message_begin(self) -> None:
        if self._complete:
            # A second answer to one request: the connection is out of step.
            self._keep_alive = False
            self._stop(TransportError("the upstream sent more than one response"))
        self._reset_message()

    def on_status(self, data: bytes) -> None:
        self._reason.append(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))
        self._head_size += len(name) + len(value) + 4
        if len(self._raw_headers) > HEADER_COUNT_LIMIT:
            self._stop(TransportError(f"response has over {HEADER_COUNT_LIMIT} headers"))
        if self._head_size > HEAD_LIMIT:
            self._stop(TransportError(f"response head is over {HEAD_LIMIT} bytes"))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status == 101:
            self._stop(TransportError("the upstream switched protocols (101), which no call asks"))
        if status < 200:
            # 100 Continue, 103 Early Hints: interim, the final answer follows on the same connection.
            self._interim = True
            return
        self._head_done = True
        headers = self._headers
        declared: int | None = None
        for raw_name, raw_value in self._raw_headers:
            name = raw_name.decode("latin-1")
            value = raw_value.decode("utf-8", "replace")
            # Repeated headers: the last one wins, and the name keeps the upstream's spelling.
            headers[name] = value
            lower = name.lower()
            if lower == "content-length":
                self._framed = True
                declared = int(value) if value.isdigit() else None
            elif lower == "transfer-encoding":
                self._framed = self._framed or "chunked" in value.lower()
            elif lower == "content-encoding":
                self._content_encoding = value
            elif lower == "location":
                self._location = value
        if self._head_only:
            # A HEAD answer announces a body it does not send.
            self._stale_parser = True
            self._finish()
        elif declared is not None and declared > self._max_body:
            self._stop(
                TransportError(
                    f"response body of {declared} bytes is over the limit of {self._max_body}",
                    too_large=True,
                )
            )

    def on_body(self, data: bytes) -> None:
        if self._complete:
            self._keep_alive = False
            return
        self._size += len(data)
        if self._size > self._max_body:
            self._stop(TransportError(f"response body is over {self._max_body} bytes", too_large=True))
        self._body.append(data)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if not self._complete:
            self._finish()

    def _finish(self) -> None:
        self._complete = True
        # Read now: llhttp resets its flags once the message is done.
        self._keep_alive = self._parser.should_keep_alive()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            body = self._body
            waiter.set_result(
                RawResponse(
                    status=self._parser.get_status_code(),
                    reason=b"".join(self._reason).decode("latin-1"),
                    headers=self._headers,
                    body=body[0] if len(body) == 1 else b"".join(body),
                    content_encoding=self._content_encoding,
                    location=self._location,
                )
            )
