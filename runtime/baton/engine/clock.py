"""Time as the engine sees it: a clock in the run environment, so tests can fake it.

Every wait, retry backoff and timeout goes through the environment's ``Clock``. The system
clock is asyncio's; ``FakeClock`` makes waits instant while keeping their order and the
timeouts they would trip, so a test of "retry five times with exponential backoff" runs in
milliseconds and can assert the delays it would have slept.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a monotonic scale (deadlines are expressed on it)."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for timestamps in records and events)."""

    async def sleep(self, seconds: float) -> None: ...

    def timeout(self, seconds: float | None) -> AbstractAsyncContextManager[object]:
        """An async context manager that raises ``TimeoutError`` when ``seconds`` elapse."""


class SystemClock:
    """asyncio's clock: real sleeps, ``asyncio.timeout`` for timeouts."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def timeout(self, seconds: float | None) -> asyncio.Timeout:
        return asyncio.timeout(None if seconds is None else max(0.0, seconds))


class _FakeTimeoutContext:
    def __init__(self, clock: FakeClock, seconds: float | None) -> None:
        self._clock = clock
        self._seconds = seconds
        self._inner: asyncio.Timeout | None = None
        self._entry: tuple[float, asyncio.Timeout] | None = None

    async def __aenter__(self) -> _FakeTimeoutContext:
        self._inner = asyncio.timeout(None)
        await self._inner.__aenter__()
        if self._seconds is not None:
            self._entry = (self._clock.monotonic() + self._seconds, self._inner)
            self._clock._deadlines.append(self._entry)
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> bool | None:
        if self._entry is not None and self._entry in self._clock._deadlines:
            self._clock._deadlines.remove(self._entry)
        assert self._inner is not None
        await self._inner.__aexit__(exc_type, exc, tb)  # type: ignore[arg-type]
        return None


class FakeClock:
    """Virtual time: ``sleep`` advances it at once; timeouts trip when virtual time passes them.

    ``sleeps`` records every requested sleep, so tests can assert backoff delays.
    """

    def __init__(self, *, start: float = 1_000.0, wall: float = 1_767_225_600.0) -> None:
        self._now = start
        self._wall_offset = wall - start
        self._deadlines: list[tuple[float, asyncio.Timeout]] = []
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        target = self._now + seconds
        due = sorted((d for d in self._deadlines if d[0] <= target), key=lambda d: d[0])
        if due:
            deadline, timeout = due[0]
            self._now = max(self._now, deadline)
            self._deadlines.remove(due[0])
            timeout.reschedule(asyncio.get_running_loop().time())
            # Let the timeout's callback cancel us, exactly as a real expiry would.
            for _ in range(3):
                await asyncio.sleep(0)
            return
        self._now = target
        await asyncio.sleep(0)

    def timeout(self, seconds: float | None) -> _FakeTimeoutContext:
        return _FakeTimeoutContext(self, seconds)
