"""Run summary of one workflow across all its runtime pods, merged without losing a run.

Each pod counts only its own runs since it started. The operator scrapes every ready pod (its
``/metrics`` for counters and the duration histogram, which add up exactly across pods, and its
``/runs/summary`` for the last run and failures with their trace ids) and folds them into a
*ledger* kept on the Workflow's status: the last counts seen per pod plus a base of pods long
gone. Counters that go backwards, or a new process start time, mean the pod's process restarted:
its previous counts move into the base before the new ones are added, so a restart never
un-counts runs. Percentiles come from the merged histogram (bucket interpolation, as Prometheus'
``histogram_quantile``), since percentiles of pods cannot be averaged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from baton_operator.errors import ScrapeError

__all__ = [
    "Counts",
    "Ledger",
    "PodReading",
    "parse_metrics",
    "parse_summary",
    "quantile",
    "run_status",
    "update_ledger",
]

_RUNS = "baton_runs"
_DURATION = "baton_run_duration_seconds"
#: Pods kept by name in the ledger; older ones (by last sighting) fold into the base.
MAX_PODS = 32
LAST_FAILURES = 5


@dataclass(frozen=True, slots=True)
class Counts:
    total: int = 0
    failed: int = 0
    #: Cumulative histogram of run durations in seconds: ``le`` bound (as text) -> runs.
    buckets: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: Counts) -> Counts:
        buckets = dict(self.buckets)
        for bound, count in other.buckets.items():
            buckets[bound] = buckets.get(bound, 0) + count
        return Counts(self.total + other.total, self.failed + other.failed, buckets)

    def regressed_from(self, before: Counts) -> bool:
        """True when some counter went down: the process behind it started over."""
        if self.total < before.total or self.failed < before.failed:
            return True
        return any(self.buckets.get(b, 0) < n for b, n in before.buckets.items())

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "failed": self.failed, "buckets": dict(self.buckets)}

    @classmethod
    def from_json(cls, data: Any) -> Counts:
        if not isinstance(data, Mapping):
            return cls()
        found = data.get("buckets")
        buckets: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        return cls(
            int(data.get("total") or 0),
            int(data.get("failed") or 0),
            {str(k): int(v) for k, v in buckets.items() if isinstance(v, int)},
        )


@dataclass(frozen=True, slots=True)
class PodReading:
    """What one scrape of one pod said."""

    target: str
    counts: Counts
    #: Earliest ``_created`` timestamp of its series: the process start, when exposed.
    started: float | None
    last_run: Mapping[str, Any] | None
    failures: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class PodEntry:
    counts: Counts
    started: float | None
    seen: str


@dataclass(frozen=True, slots=True)
class Ledger:
    base: Counts = field(default_factory=Counts)
    pods: Mapping[str, PodEntry] = field(default_factory=dict)
    last_run: Mapping[str, Any] | None = None
    failures: Sequence[Mapping[str, Any]] = ()

    def totals(self) -> Counts:
        total = self.base
        for entry in self.pods.values():
            total = total + entry.counts
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base.to_json(),
            "pods": {
                name: {**e.counts.to_json(), "started": e.started, "seen": e.seen}
                for name, e in sorted(self.pods.items())
            },
        }

    @classmethod
    def from_status(cls, runs: Any) -> Ledger:
        """Rebuild from ``status.runs``, so an operator restart continues the same sums."""
        if not isinstance(runs, Mapping):
            return cls()
        found = runs.get("ledger")
        ledger: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        pods: dict[str, PodEntry] = {}
        for name, data in (ledger.get("pods") or {}).items():
            if isinstance(data, Mapping):
                started = data.get("started")
                pods[str(name)] = PodEntry(
                    Counts.from_json(data),
                    float(started) if isinstance(started, int | float) else None,
                    str(data.get("seen") or ""),
                )
        last = runs.get("lastRun")
        failures = runs.get("lastFailures")
        return cls(
            Counts.from_json(ledger.get("base")),
            pods,
            last if isinstance(last, Mapping) else None,
            [f for f in failures if isinstance(f, Mapping)] if isinstance(failures, list) else [],
        )


def parse_metrics(text: str, *, workflow: str) -> tuple[Counts, float | None]:
    """Counts of ``workflow``'s runs in a pod's Prometheus exposition, all versions together."""
    total = failed = 0
    buckets: dict[str, int] = {}
    created: list[float] = []
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise ScrapeError(f"metrics are not in the Prometheus text format: {exc}") from exc
    for family in families:
        for sample in family.samples:
            if sample.labels.get("workflow") != workflow:
                continue
            if sample.name.endswith("_created") and sample.name.startswith((_RUNS, _DURATION)):
                created.append(float(sample.value))
            elif sample.name == f"{_RUNS}_total":
                count = int(sample.value)
                total += count
                if sample.labels.get("outcome") != "completed":
                    failed += count
            elif sample.name == f"{_DURATION}_bucket":
                bound = sample.labels.get("le", "+Inf")
                buckets[bound] = buckets.get(bound, 0) + int(sample.value)
    return Counts(total, failed, buckets), (min(created) if created else None)


def _run_reference(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, Mapping) or not data.get("id"):
        return None
    keep = ("id", "version", "outcome", "traceId", "startedAt", "endedAt", "durationMs")
    ref = {k: data[k] for k in keep if data.get(k) is not None}
    error = data.get("error")
    if isinstance(error, Mapping) and error.get("type"):
        ref["errorType"] = str(error["type"])
    return ref


def parse_summary(data: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The last run and recent failures from a pod's ``GET /runs/summary`` answer."""
    if not isinstance(data, Mapping):
        raise ScrapeError("the run summary is not a JSON object")
    failures = [r for r in map(_run_reference, data.get("recentFailures") or ()) if r is not None]
    return _run_reference(data.get("lastRun")), failures


def _when(run: Mapping[str, Any]) -> str:
    return str(run.get("endedAt") or run.get("startedAt") or "")


def update_ledger(ledger: Ledger, readings: Iterable[PodReading], *, now: str) -> Ledger:
    base = ledger.base
    pods = dict(ledger.pods)
    last_run = ledger.last_run
    failures = {str(f.get("id")): f for f in ledger.failures}
    for reading in readings:
        before = pods.get(reading.target)
        if before is not None:
            restarted = (
                reading.started is not None
                and before.started is not None
                and reading.started != before.started
            )
            if restarted or reading.counts.regressed_from(before.counts):
                base = base + before.counts
        pods[reading.target] = PodEntry(reading.counts, reading.started, now)
        if reading.last_run is not None and (last_run is None or _when(reading.last_run) >= _when(last_run)):
            last_run = reading.last_run
        for failure in reading.failures:
            failures[str(failure.get("id"))] = failure
    if len(pods) > MAX_PODS:
        for name in sorted(pods, key=lambda n: pods[n].seen)[: len(pods) - MAX_PODS]:
            base = base + pods.pop(name).counts
    newest = sorted(failures.values(), key=_when, reverse=True)[:LAST_FAILURES]
    return Ledger(base, pods, last_run, newest)


def quantile(q: float, buckets: Mapping[str, int]) -> float | None:
    """``histogram_quantile``: linear interpolation inside the bucket holding rank ``q``."""
    bounds = sorted(((math.inf if b == "+Inf" else float(b)), n) for b, n in buckets.items())
    if not bounds or bounds[-1][1] == 0:
        return None
    rank = q * bounds[-1][1]
    lower_bound, lower_count = 0.0, 0
    for bound, count in bounds:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def run_status(ledger: Ledger) -> dict[str, Any]:
    """``status.runs``: what people read, plus the ledger the next refresh continues from."""
    totals = ledger.totals()
    return {
        "total": totals.total,
        "failed": totals.failed,
        "p50Ms": _ms(quantile(0.5, totals.buckets)),
        "p95Ms": _ms(quantile(0.95, totals.buckets)),
        "lastRun": dict(ledger.last_run) if ledger.last_run else None,
        "lastFailures": [dict(f) for f in ledger.failures],
        "ledger": ledger.to_json(),
    }
