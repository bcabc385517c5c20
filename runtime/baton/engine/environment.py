"""What runs share: the HTTP client pool, token cache, clock, event sink, secrets, randomness.

One ``RunEnvironment`` serves many runs (a server keeps one for its lifetime; ``baton run``
makes one per invocation). It is an async context manager so the pooled HTTP session is
closed when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from baton import __version__
from baton.engine.clock import Clock, SystemClock
from baton.engine.events import EventSink, InMemoryEventSink
from baton.engine.http.auth import TokenCache
from baton.engine.http.client import Http1Transport
from baton.engine.http.transport import HttpTransport

__all__ = ["RunEnvironment"]


class RunEnvironment:
    def __init__(
        self,
        *,
        transport: HttpTransport | None = None,
        host_map: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        events: EventSink | None = None,
        secrets: Mapping[str, Any] | None = None,
        seed: int | None = None,
        runtime_metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.transport: HttpTransport = transport or Http1Transport(host_map=host_map)
        self.events: EventSink = events or InMemoryEventSink()
        self.secrets: Mapping[str, Any] = secrets or {}
        self.random = random.Random(seed)
        self.tokens = TokenCache(self.clock)
        # OpenAPI documents by URI, fetched once, and their operations by (URI, operationId).
        self.openapi_documents: dict[str, Mapping[str, Any]] = {}
        self.openapi_operations: dict[tuple[str, str], Any] = {}
        # Sub-workflows started with `await: false`; cancelled when the environment closes.
        self.background: set[asyncio.Task[Any]] = set()
        self.runtime_descriptor: dict[str, Any] = {
            "name": "baton",
            "version": __version__,
            "metadata": dict(runtime_metadata or {}),
        }

    async def __aenter__(self) -> RunEnvironment:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for task in list(self.background):
            task.cancel()
        for task in list(self.background):
            with contextlib.suppress(BaseException):
                await task
        await self.transport.close()
