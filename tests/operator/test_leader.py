"""Lease election rules on an in-memory Lease store (the plane tier runs it on a real apiserver)."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from baton_operator.errors import KubeError
from baton_operator.leader import LeaseElector


class Leases:
    """get/create/replace with resourceVersion conflicts, as the apiserver answers them."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.version = 0
        self.down = False

    async def get(self, *_: Any) -> dict[str, Any] | None:
        if self.down:
            raise KubeError(503, "ServiceUnavailable", "down")
        return copy.deepcopy(self.lease)

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self.lease is not None:
            raise KubeError(409, "AlreadyExists", "exists")
        self.version += 1
        self.lease = {
            **copy.deepcopy(obj),
            "metadata": {**obj["metadata"], "resourceVersion": str(self.version)},
        }
        return copy.deepcopy(self.lease)

    async def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        assert self.lease is not None
        if obj["metadata"]["resourceVersion"] != self.lease["metadata"]["resourceVersion"]:
            raise KubeError(409, "Conflict", "modified")
        self.version += 1
        self.lease = {
            **copy.deepcopy(obj),
            "metadata": {**obj["metadata"], "resourceVersion": str(self.version)},
        }
        return copy.deepcopy(self.lease)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def elector(store: Leases, identity: str, clock: Clock) -> LeaseElector:
    return LeaseElector(store, name="lead", namespace="ops", identity=identity, clock=clock)  # type: ignore[arg-type]


async def test_a_live_holder_keeps_the_lease_and_an_expired_one_loses_it() -> None:
    store, clock = Leases(), Clock()
    a, b = elector(store, "a", clock), elector(store, "b", clock)
    assert await a.try_acquire()
    assert not await b.try_acquire()
    clock.now += timedelta(seconds=10)
    assert await a.try_acquire()  # renewal
    clock.now += timedelta(seconds=14)
    assert not await b.try_acquire()
    clock.now += timedelta(seconds=2)  # a missed its renewals for longer than the 15 s duration
    assert await b.try_acquire()
    assert store.lease is not None
    assert store.lease["spec"]["holderIdentity"] == "b"
    assert store.lease["spec"]["leaseTransitions"] == 1


async def test_a_released_lease_is_taken_at_once() -> None:
    store, clock = Leases(), Clock()
    a, b = elector(store, "a", clock), elector(store, "b", clock)
    assert await a.try_acquire()
    await a.release()
    assert await b.try_acquire()


async def test_a_leader_that_cannot_renew_in_time_stands_down() -> None:
    store, clock = Leases(), Clock()
    a = LeaseElector(store, name="lead", namespace="ops", identity="a", clock=clock, renew_every=0.01)  # type: ignore[arg-type]
    assert await a.try_acquire()
    store.down = True
    stop = asyncio.Event()
    keeper = asyncio.create_task(a.keep(stop))
    await asyncio.sleep(0.05)
    assert not keeper.done()  # failures within the Lease's duration are retried
    clock.now += timedelta(seconds=15)  # the Lease would expire before the next renewal
    assert await asyncio.wait_for(keeper, timeout=2) is True
    assert stop.is_set()


async def test_losing_a_race_for_the_lease_is_not_an_error() -> None:
    store, clock = Leases(), Clock()
    a = elector(store, "a", clock)
    assert await a.try_acquire()
    clock.now += timedelta(seconds=30)
    original = store.get

    async def stale_get(*args: Any) -> dict[str, Any] | None:
        seen = await original(*args)
        store.version += 1  # someone else writes between our read and our write
        assert store.lease is not None
        store.lease["metadata"]["resourceVersion"] = str(store.version)
        return seen

    store.get = stale_get  # type: ignore[method-assign]
    assert not await elector(store, "b", clock).try_acquire()
