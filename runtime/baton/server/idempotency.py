"""Idempotency keys: a retried request gets the first one's stored response, without a second run.

Semantics (kept apart from storage, so a shared store can come later behind ``IdempotencyStore``):
- same key, same request fingerprint, first one finished: the stored response is replayed
  (same status, headers and body);
- same key, different fingerprint: refused (the server answers 422);
- same key while the first is still running: the duplicate waits for it, then replays;
- a key expires ``ttl`` seconds after its response was stored (clock injectable for tests);
- a first request that ends without a response (cancelled, crashed) releases its key, so a
  waiting duplicate takes over instead of replaying nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "Claimed",
    "Conflict",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "Outcome",
    "StoredResponse",
    "fingerprint",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claimed:
    """The caller owns the key: run, then ``complete`` (or ``release`` on failure)."""

    key: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """The key was used for a different request."""

    key: str


Outcome = Claimed | Conflict | StoredResponse


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(method.encode())
    digest.update(b"\0")
    digest.update(path.encode())
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyStore(Protocol):
    async def claim(self, key: str, fingerprint: str) -> Outcome:
        """Own ``key``, or learn its stored response, or that it belongs to another request.

        Waits while another request owns the key and has not finished.
        """

    async def complete(self, key: str, response: StoredResponse, *, ttl: float) -> None: ...

    async def release(self, key: str) -> None:
        """Give a claimed key back without a response (the run did not produce one)."""


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    done: asyncio.Event = field(default_factory=asyncio.Event)
    response: StoredResponse | None = None
    expires_at: float = float("inf")


class InMemoryIdempotencyStore:
    """One process's keys. Bounded: the oldest finished keys are dropped past ``max_keys``."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, key: str, fingerprint: str) -> Outcome:
        while True:
            entry = self._entries.get(key)
            if entry is not None and entry.response is not None and entry.expires_at <= self._clock():
                del self._entries[key]
                entry = None
            if entry is None:
                self._evict()
                self._entries[key] = _Entry(fingerprint)
                return Claimed(key)
            if entry.fingerprint != fingerprint:
                return Conflict(key)
            if entry.response is not None:
                return entry.response
            await entry.done.wait()
            # Loop: either the response is there now, or the owner released the key.

    async def complete(self, key: str, response: StoredResponse, *, ttl: float) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.response = response
        entry.expires_at = self._clock() + ttl
        entry.done.set()

    async def release(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            entry.done.set()

    def _evict(self) -> None:
        if len(self._entries) < self._max_keys:
            return
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.response is not None and e.expires_at <= now]:
            del self._entries[key]
        if len(self._entries) < self._max_keys:
            return
        # Still full of live keys: drop the oldest finished ones (dicts keep insertion order).
        for key in [k for k, e in self._entries.items() if e.response is not None][
            : max(1, len(self._entries) - self._max_keys + 1)
        ]:
            del self._entries[key]


def stored_headers(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(headers.items())
