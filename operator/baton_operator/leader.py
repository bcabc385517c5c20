"""Leader election with a ``coordination.k8s.io/v1`` Lease, as controller-runtime does it.

Several operator replicas may run (rolling updates, HA); only the Lease holder reconciles. The
holder renews every ``renew_every`` seconds; a Lease not renewed within its duration may be
taken over. A holder that cannot renew before its Lease expires stops itself, so two replicas
never act at once for longer than one renew period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from baton_operator.errors import KubeError
from baton_operator.kube import Kube
from baton_operator.metrics import IS_LEADER

__all__ = ["LeaseElector"]

log = logging.getLogger(__name__)
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _now() -> datetime:
    return datetime.now(UTC)


def _parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    for fmt in (_FORMAT, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


class LeaseElector:
    def __init__(
        self,
        kube: Kube,
        *,
        name: str,
        namespace: str,
        identity: str,
        duration: int = 15,
        renew_every: float = 5.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._kube = kube
        self._name = name
        self._namespace = namespace
        self.identity = identity
        self._duration = duration
        self._renew_every = renew_every
        self._clock = clock

    def _lease(self, spec: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        meta = dict(metadata or {"name": self._name, "namespace": self._namespace})
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}

    async def try_acquire(self) -> bool:
        """Take or renew the Lease once; False when another live holder has it or a race was lost."""
        now = self._clock()
        stamp = now.strftime(_FORMAT)
        lease = await self._kube.get("coordination.k8s.io/v1", "Lease", self._namespace, self._name)
        try:
            if lease is None:
                await self._kube.create(
                    self._lease(
                        {
                            "holderIdentity": self.identity,
                            "leaseDurationSeconds": self._duration,
                            "acquireTime": stamp,
                            "renewTime": stamp,
                            "leaseTransitions": 0,
                        }
                    )
                )
                return True
            spec = dict(lease.get("spec") or {})
            holder = spec.get("holderIdentity")
            renewed = _parse(spec.get("renewTime"))
            duration = int(spec.get("leaseDurationSeconds") or self._duration)
            expired = renewed is None or renewed + timedelta(seconds=duration) < now
            if holder and holder != self.identity and not expired:
                return False
            if holder != self.identity:
                spec["acquireTime"] = stamp
                spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
            spec.update(holderIdentity=self.identity, renewTime=stamp, leaseDurationSeconds=self._duration)
            await self._kube.replace(self._lease(spec, lease["metadata"]))
            return True
        except KubeError as exc:
            if exc.conflict:  # someone else wrote the Lease between our read and write
                return False
            raise

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until leader (True) or until ``stop`` is set (False)."""
        announced = False
        while not stop.is_set():
            try:
                if await self.try_acquire():
                    IS_LEADER.set(1)
                    log.info("became leader", extra={"identity": self.identity, "lease": self._name})
                    return True
            except KubeError as exc:
                log.warning("cannot read the leader Lease", extra={"error": str(exc)})
            if not announced:
                log.info("waiting for the leader Lease", extra={"identity": self.identity})
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._renew_every)
        return False

    async def keep(self, stop: asyncio.Event) -> bool:
        """Renew until ``stop``; on losing the Lease, set ``stop`` and return True (lost)."""
        last_renewed = self._clock()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._renew_every)
                return False
            except TimeoutError:
                pass
            try:
                if await self.try_acquire():
                    last_renewed = self._clock()
                    continue
                log.error("leadership lost to another replica; stopping", extra={"identity": self.identity})
            except KubeError as exc:
                if self._clock() - last_renewed < timedelta(seconds=self._duration - self._renew_every):
                    log.warning("leader Lease renewal failed; retrying", extra={"error": str(exc)})
                    continue
                log.error("leader Lease not renewed in time; stopping", extra={"error": str(exc)})
            IS_LEADER.set(0)
            stop.set()
            return True
        return False

    async def release(self) -> None:
        """Hand over at once on a clean stop, instead of making the next leader wait out the Lease."""
        IS_LEADER.set(0)
        try:
            lease = await self._kube.get("coordination.k8s.io/v1", "Lease", self._namespace, self._name)
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            spec = dict(lease["spec"])
            spec.update(holderIdentity=None, leaseDurationSeconds=1)
            await self._kube.replace(self._lease(spec, lease["metadata"]))
        except KubeError as exc:
            log.warning("leader Lease not released; it will expire", extra={"error": str(exc)})
