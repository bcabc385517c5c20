"""In-process events: what ``emit`` publishes and ``listen`` consumes, until a broker is wired in.

``InMemoryEventSink`` keeps every published event (for tests and ``baton run``) and hands each
one to the subscriptions open at that moment, like a broker without replay: a ``listen`` sees
the events published after it started listening.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["EventSink", "EventSource", "InMemoryEventSink", "Subscription"]


class EventSink(Protocol):
    async def publish(self, event: Mapping[str, Any]) -> None: ...


class Subscription(Protocol):
    async def next(self) -> Mapping[str, Any]: ...

    def close(self) -> None: ...


@runtime_checkable
class EventSource(Protocol):
    def subscribe(self) -> Subscription: ...


class _Queue:
    def __init__(self, owner: InMemoryEventSink) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()

    def deliver(self, event: Mapping[str, Any]) -> None:
        self._queue.put_nowait(event)

    async def next(self) -> Mapping[str, Any]:
        return await self._queue.get()

    def close(self) -> None:
        self._owner._subscriptions.discard(self)


class InMemoryEventSink:
    """Keeps emitted events in order and fans them out to open subscriptions."""

    def __init__(self) -> None:
        self.events: list[Mapping[str, Any]] = []
        self._subscriptions: set[_Queue] = set()

    async def publish(self, event: Mapping[str, Any]) -> None:
        self.events.append(event)
        for subscription in list(self._subscriptions):
            subscription.deliver(event)

    def subscribe(self) -> Subscription:
        subscription = _Queue(self)
        self._subscriptions.add(subscription)
        return subscription
