"""Reading run summaries from the runtime pods of one workflow.

Where to read is a pluggable ``TargetResolver``: by default the ready endpoints of the
workflow's Service, from its EndpointSlices. Tests (which have no kubelet, so no pod ever runs)
and unusual networks name their own with ``BATON_TARGET_RESOLVER=module:function``.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp

from baton_operator.errors import KubeError, ScrapeError
from baton_operator.kube import Kube
from baton_operator.metrics import SCRAPES
from baton_operator.summary import PodReading, parse_metrics, parse_summary

__all__ = ["Target", "TargetResolver", "endpointslice_targets", "load_resolver", "read_pods"]


@dataclass(frozen=True, slots=True)
class Target:
    #: Stable per process host (the pod's name): the ledger's key.
    name: str
    #: Base URL of the runtime, e.g. ``http://10.1.2.3:8080``.
    url: str


TargetResolver = Callable[[Kube, str, str], Awaitable[Sequence[Target]]]


async def endpointslice_targets(kube: Kube, namespace: str, workflow: str) -> Sequence[Target]:
    """Ready endpoints of the workflow's Service: only pods that passed ``/readyz``."""
    slices = await kube.list(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        namespace,
        label_selector=f"kubernetes.io/service-name={workflow}",
    )
    targets: dict[str, Target] = {}
    for item in slices:
        port = next((p.get("port") for p in item.get("ports") or () if p.get("name") == "http"), None)
        if port is None:
            continue
        for endpoint in item.get("endpoints") or ():
            if (endpoint.get("conditions") or {}).get("ready") is False or not endpoint.get("addresses"):
                continue
            address = endpoint["addresses"][0]
            host = f"[{address}]" if ":" in address else address
            name = (endpoint.get("targetRef") or {}).get("name") or address
            targets[name] = Target(name, f"http://{host}:{port}")
    return sorted(targets.values(), key=lambda t: t.name)


def load_resolver(spec: str) -> TargetResolver:
    """``module:function`` to a resolver; empty means EndpointSlices."""
    if not spec:
        return endpointslice_targets
    module_name, _, function = spec.partition(":")
    try:
        resolver: TargetResolver = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"target resolver {spec!r} cannot be imported: {exc}") from exc
    return resolver


async def _read(session: aiohttp.ClientSession, target: Target, workflow: str) -> PodReading:
    try:
        async with session.get(f"{target.url}/metrics") as response:
            response.raise_for_status()
            metrics = await response.text()
        async with session.get(
            f"{target.url}/runs/summary", headers={"Accept": "application/json"}
        ) as response:
            response.raise_for_status()
            summary = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise ScrapeError(f"{target.name} ({target.url}): {exc or type(exc).__name__}") from exc
    counts, started = parse_metrics(metrics, workflow=workflow)
    last_run, failures = parse_summary(summary)
    return PodReading(target.name, counts, started, last_run, failures)


async def read_pods(
    session: aiohttp.ClientSession, targets: Sequence[Target], *, workflow: str
) -> tuple[list[PodReading], list[str]]:
    """Every target at once; a pod that cannot be read keeps its last counts in the ledger."""
    results = await asyncio.gather(*(_read(session, t, workflow) for t in targets), return_exceptions=True)
    readings: list[PodReading] = []
    problems: list[str] = []
    for result in results:
        if isinstance(result, PodReading):
            readings.append(result)
            SCRAPES.labels("ok").inc()
        elif isinstance(result, ScrapeError | KubeError):
            problems.append(str(result))
            SCRAPES.labels("error").inc()
        elif isinstance(result, BaseException):
            raise result
    return readings, problems
