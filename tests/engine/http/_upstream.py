"""A scriptable HTTP/1.1 upstream on loopback, byte for byte.

Real servers (aiohttp, uvicorn) refuse to send the malformed, truncated or unusual answers
these tests need, so this one writes whatever the test scripts: each request is parsed
(method, target, headers, Content-Length body), handed to the script with the number of its
connection, and the script's ``Reply`` goes on the wire as it is.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

__all__ = ["Reply", "Seen", "Upstream", "answer", "upstream"]


@dataclass(frozen=True, slots=True)
class Seen:
    method: str
    target: str
    #: Lower-cased names; ``raw_headers`` keeps the order and spelling the client sent.
    headers: dict[str, str]
    raw_headers: list[tuple[str, str]]
    body: bytes
    connection: int
    #: 1 for the first request on its connection.
    nth: int


@dataclass(frozen=True, slots=True)
class Reply:
    data: bytes = b""
    #: Close the connection after writing ``data`` (with nothing written: drop the request).
    close: bool = False
    #: Wait this long before writing.
    delay: float = 0.0


def answer(
    body: bytes = b"ok",
    *,
    status: str = "200 OK",
    headers: dict[str, str] | None = None,
    version: str = "HTTP/1.1",
) -> bytes:
    """A well-formed answer with a Content-Length unless ``headers`` frame it otherwise."""
    fields = dict(headers or {})
    if not any(k.lower() in ("content-length", "transfer-encoding") for k in fields):
        fields["Content-Length"] = str(len(body))
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return f"{version} {status}\r\n{head}\r\n".encode("latin-1") + body


Script = Callable[[Seen], Reply | Awaitable[Reply]]


@dataclass
class Upstream:
    host: str
    port: int
    scheme: str
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    closed_by_client: int = 0

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@asynccontextmanager
async def upstream(
    script: Script, *, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Upstream]:
    state = Upstream(host=host, port=0, scheme="https" if ssl_context else "http")
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        number = state.connections
        state.open_now += 1
        state.most_open = max(state.most_open, state.open_now)
        nth = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    state.closed_by_client += 1
                    return
                lines = head.decode("utf-8").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                raw = [tuple(line.split(": ", 1)) for line in lines[1:] if line]
                headers = {k.lower(): v for k, v in raw}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                nth += 1
                seen = Seen(method, target, headers, raw, body, number, nth)  # type: ignore[arg-type]
                state.requests.append(seen)
                reply = script(seen)
                if not isinstance(reply, Reply):
                    reply = await reply
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                if reply.data:
                    writer.write(reply.data)
                    await writer.drain()
                if reply.close:
                    return
        except ConnectionError:
            return
        finally:
            state.open_now -= 1
            writer.close()

    def track(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(serve(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(track, host, 0, ssl=ssl_context)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
