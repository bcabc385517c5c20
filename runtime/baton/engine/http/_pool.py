"""Open connections per origin, under one limit for all of them.

Idle connections are kept newest-last and reused newest-first (LIFO): the newest is the one
least likely to have been closed by the upstream's keep-alive timeout, and the oldest ones
age out. When the limit is reached, requests wait in arrival order (FIFO) for a connection
to their origin or a free slot; an idle connection to another origin is closed to make room
rather than let a request wait behind an idle socket.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

from baton.engine.http._connection import Connection

__all__ = ["Pool"]

#: Opens a connection to an origin; the connection calls back when it closes.
Connector = Callable[[Hashable, Callable[[Connection], None]], Awaitable[Connection]]


class Pool:
    def __init__(self, *, limit: int, idle_timeout: float) -> None:
        if limit < 1:
            raise ValueError("the connection limit must be at least 1")
        self._limit = limit
        self._idle_timeout = idle_timeout
        self._idle: dict[Hashable, list[Connection]] = {}
        self._all: set[Connection] = set()
        #: Connections open or being opened: what the limit counts.
        self._open = 0
        self._waiters: deque[tuple[Hashable, bool, asyncio.Future[Connection | None]]] = deque()
        self._waking = False
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def open_connections(self) -> int:
        return self._open

    def idle_count(self, key: Hashable) -> int:
        return len(self._idle.get(key, ()))

    async def acquire(
        self, key: Hashable, connect: Connector, *, fresh: bool = False
    ) -> tuple[Connection, bool]:
        """A connection to ``key``, and whether it was reused (it may then have died unseen).

        ``fresh`` skips the idle connections: the caller just saw one die and wants a new one.
        """
        conn = None if fresh else self._take_idle(key)
        if conn is not None:
            return conn, True
        if not self._waiters and (self._open < self._limit or self._evict_other(key)):
            self._open += 1
        else:
            granted = await self._wait(key, fresh=fresh)
            if granted is not None:
                return granted, True
        return await self._connect(key, connect), False

    def release(self, conn: Connection) -> None:
        """Give back a connection after its answer was read; kept only if it can serve another."""
        if not conn.reusable:
            conn.close()
            return
        loop = asyncio.get_running_loop()
        conn.idle_since = now = loop.time()
        idle = self._idle.setdefault(conn.key, [])
        idle.append(conn)
        while idle and now - idle[0].idle_since > self._idle_timeout:
            idle[0].close()
        if self._sweeper is None:
            self._sweeper = loop.call_later(self._idle_timeout, self._sweep)
        self._wake()

    def close(self) -> None:
        """Close every connection, idle or in use; requests in flight get ``TransportError``."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self._all):
            conn.close()
        self._idle.clear()

    # --- internals

    def _sweep(self) -> None:
        """Close what sat idle too long, even for origins no request goes to any more."""
        self._sweeper = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() - self._idle_timeout
        oldest: float | None = None
        for idle in list(self._idle.values()):
            while idle and idle[0].idle_since <= deadline:
                idle[0].close()
            if idle and (oldest is None or idle[0].idle_since < oldest):
                oldest = idle[0].idle_since
        if oldest is not None:
            self._sweeper = loop.call_at(oldest + self._idle_timeout, self._sweep)

    async def _connect(self, key: Hashable, connect: Connector) -> Connection:
        try:
            conn = await connect(key, self._forget)
        except BaseException:
            self._open -= 1
            self._wake()
            raise
        if conn.is_closed:
            # Closed while connecting, before it was counted: its slot is given back here, and
            # the exchange reports the drop.
            self._open -= 1
            self._wake()
        else:
            self._all.add(conn)
        return conn

    def _take_idle(self, key: Hashable) -> Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        deadline = asyncio.get_running_loop().time() - self._idle_timeout
        while idle:
            conn = idle.pop()
            if conn.reusable and conn.idle_since >= deadline:
                return conn
            conn.close()
        return None

    def _evict_other(self, key: Hashable) -> bool:
        """Close the longest-idle connection to another origin, freeing its slot for ``key``."""
        oldest: Connection | None = None
        for other, idle in self._idle.items():
            if other != key and idle and (oldest is None or idle[0].idle_since < oldest.idle_since):
                oldest = idle[0]
        if oldest is None:
            return False
        waking, self._waking = self._waking, True
        try:
            oldest.close()
        finally:
            self._waking = waking
        return True

    async def _wait(self, key: Hashable, *, fresh: bool) -> Connection | None:
        waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append((key, fresh, waiter))
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Granted just as the caller gave up: pass it on.
                granted = waiter.result()
                if granted is None:
                    self._open -= 1
                    self._wake()
                else:
                    self.release(granted)
            raise

    def _forget(self, conn: Connection) -> None:
        if conn in self._all:
            self._all.discard(conn)
            self._open -= 1
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)
            if not idle:
                del self._idle[conn.key]
        self._wake()

    def _wake(self) -> None:
        if self._waking:
            return
        self._waking = True
        try:
            waiters = self._waiters
            while waiters:
                key, fresh, waiter = waiters[0]
                if waiter.done():
                    waiters.popleft()
                    continue
                conn = None if fresh else self._take_idle(key)
                if conn is not None:
                    waiters.popleft()
                    waiter.set_result(conn)
                elif self._open < self._limit or self._evict_other(key):
                    self._open += 1
                    waiters.popleft()
                    waiter.set_result(None)
                else:
                    break
        finally:
            self._waking = False
