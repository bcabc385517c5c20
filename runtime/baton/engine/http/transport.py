"""The HTTP transport contract, and the aiohttp implementation of it.

The default transport is ``Http1Transport`` (``client.py``); ``AiohttpTransport`` is kept as a
second implementation, the reference the contract tests hold both to.

``HttpTransport`` is the seam tests use: ``AiohttpTransport(host_map={"petstore.swagger.io":
"http://127.0.0.1:8081"})`` sends requests for a public host to a local stand-in, over real
loopback HTTP, while the workflow, its URIs and its outputs still name the public host.
Transport failures are ``TransportError``; the call task turns them into the spec's
communication and timeout errors (retrying is the workflow's decision, never the transport's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from yarl import URL

from baton.engine.http._hosts import HostMap
from baton.engine.http._tokens import TOKEN

__all__ = ["AiohttpTransport", "HttpResponse", "HttpTransport", "TransportError"]


@dataclass(slots=True)
class HttpResponse:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    url: str


#: Most calls have no timeout; one shared value spares building it per request.
_NO_TIMEOUT = aiohttp.ClientTimeout(total=None)


class TransportError(Exception):
    """The request did not get an answer: connection refused, reset, DNS, timeout, body too big,
    or (``unsendable``) the request itself cannot be put on the wire, which no retry will mend."""

    def __init__(
        self, message: str, *, timed_out: bool = False, too_large: bool = False, unsendable: bool = False
    ) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.too_large = too_large
        self.unsendable = unsendable


class HttpTransport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,  # noqa: ASYNC109 - handed to the client, which enforces it
        follow_redirects: bool,
        max_body: int,
    ) -> HttpResponse: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """aiohttp client transport; the session is created lazily inside the running loop."""

    def __init__(
        self,
        *,
        host_map: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        connection_limit: int = 256,
    ) -> None:
        self._hosts = HostMap(host_map)
        self._session = session
        self._owns_session = session is None
        self._connection_limit = connection_limit
        self._lock = asyncio.Lock()

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            async with self._lock:
                if self._session is None:
                    self._session = aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(limit=self._connection_limit, ttl_dns_cache=300),
                        auto_decompress=True,
                        # URIs were already encoded by the call task; do not re-quote them.
                        requote_redirect_url=False,
                    )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,  # noqa: ASYNC109 - handed to the client, which enforces it
        follow_redirects: bool,
        max_body: int,
    ) -> HttpResponse:
        session = self._session if self._session is not None else await self._get_session()
        target = self._hosts.rewrite(url) if self._hosts else url
        for name in headers:
            if not TOKEN.fullmatch(name):
                # aiohttp would send it: a colon in a name would forge a header.
                raise TransportError(f"header name {name!r} is not an HTTP token", unsendable=True)
        try:
            async with session.request(
                method,
                URL(target, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=follow_redirects,
                timeout=_NO_TIMEOUT if timeout is None else aiohttp.ClientTimeout(total=timeout),
            ) as response:
                declared = response.content_length
                if declared is not None and declared > max_body:
                    raise TransportError(
                        f"response body of {declared} bytes is over the limit", too_large=True
                    )
                if declared is not None and "Content-Encoding" not in response.headers:
                    body = await response.read()
                else:
                    # Unknown or compressed length: read in chunks, stop at the limit.
                    body = await _read_bounded(response, max_body)
                return HttpResponse(
                    status=response.status,
                    reason=response.reason or "",
                    # items(), not the mapping: of repeated headers the last wins, as before.
                    headers=dict(response.headers.items()),
                    body=body,
                    url=url,
                )
        except TimeoutError as exc:
            within = "" if timeout is None else f" within {timeout:g}s"
            raise TransportError(f"timed out: no answer{within}", timed_out=True) from exc
        except aiohttp.ClientError as exc:
            # An invalid URL of our own is unsendable; one an upstream redirected to is its fault.
            unsendable = isinstance(exc, aiohttp.InvalidURL) and not isinstance(
                exc, aiohttp.RedirectClientError
            )
            raise TransportError(f"{type(exc).__name__}: {exc}", unsendable=unsendable) from exc
        except ValueError as exc:
            # aiohttp and yarl refuse control characters in headers, a method that is not a token,
            # a port out of range: the request is wrong, not the network.
            raise TransportError(f"the request cannot be sent: {exc}", unsendable=True) from exc

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None


async def _read_bounded(response: aiohttp.ClientResponse, max_body: int) -> bytes:
    """Read a body of unknown length, stopping as soon as it passes ``max_body``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_body:
            raise TransportError(f"response body is over {max_body} bytes", too_large=True)
        chunks.append(chunk)
    return b"".join(chunks)
