"""Prometheus metrics on ``/metrics``: runs, durations, in-flight runs, tasks, upstream calls.

The hot path never touches prometheus-client objects: their per-update lock and label lookup
cost more than the rest of a metric update. Values live in plain slot objects that only the
event loop thread writes, and a custom collector turns them into metric families when
``/metrics`` is scraped (on the same thread, so a scrape never sees a half-made update). Each
server owns its registry, so several servers in one process never collide.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from baton.engine import CallOutcome, RunResult

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "RunMetrics"]

_RUN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_TASK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0)


class Value:
    __slots__ = ("created", "value")

    def __init__(self) -> None:
        self.value = 0.0
        # Exposed as `<name>_created`: a scraper (the operator's run summary) tells a restarted
        # process from counters that went backwards.
        self.created = time.time()

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = value


class Distribution:
    __slots__ = ("bounds", "count", "counts", "created", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.created = time.time()
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound belongs in that bound's bucket (le="bound").
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.total += value


class _Family:
    def __init__(self, name: str, documentation: str, labels: Sequence[str], kind: str) -> None:
        self.name = name
        self.documentation = documentation
        self.label_names = tuple(labels)
        self.kind = kind
        self.children: dict[tuple[str, ...], Value] = {}

    def labels(self, *values: str) -> Value:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = Value()
        return child

    def collect(self) -> Metric:
        if self.kind == "counter":
            counter = CounterMetricFamily(self.name, self.documentation, labels=self.label_names)
            for values, child in self.children.items():
                counter.add_metric(list(values), child.value, created=child.created)
            return counter
        gauge = GaugeMetricFamily(self.name, self.documentation, labels=self.label_names)
        for values, child in self.children.items():
            gauge.add_metric(list(values), child.value)
        return gauge


class _Histograms:
    def __init__(self, name: str, documentation: str, labels: Sequence[str], bounds: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.label_names = tuple(labels)
        self.bounds = tuple(bounds)
        self.children: dict[tuple[str, ...], Distribution] = {}

    def labels(self, *values: str) -> Distribution:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = Distribution(self.bounds)
        return child

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.label_names)
        for values, child in self.children.items():
            running = 0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip(self.bounds, child.counts, strict=False):
                running += count
                buckets.append((repr(float(bound)), running))
            buckets.append(("+Inf", child.count))
            family.add_metric(list(values), buckets, child.total)
            labels = dict(zip(self.label_names, values, strict=True))
            family.samples.append(Sample(self.name + "_created", labels, child.created))
        return family


class _Collector(Collector):
    def __init__(self, families: Sequence[_Family | _Histograms]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield family.collect()


class RunMetrics:
    """One workflow version's metric children, and the engine observer for call outcomes.

    Task durations are taken from the finished run's timeline (one pass at the end), so the
    observer needs only ``on_call_end``: the engine skips hooks an observer does not have.
    """

    __slots__ = ("_calls", "_kinds", "_metrics", "duration", "in_flight", "outcomes", "workflow")

    def __init__(self, metrics: Metrics, workflow: str, version: str) -> None:
        self._metrics = metrics
        self.workflow = workflow
        self.outcomes = {
            outcome: metrics.runs.labels(workflow, version, outcome)
            for outcome in ("completed", "faulted", "cancelled")
        }
        self.duration = metrics.run_duration.labels(workflow, version)
        self.in_flight = metrics.in_flight.labels(workflow)
        self._kinds: dict[str, Distribution] = {}
        self._calls: dict[str, Value] = {}

    def tasks_ended(self, result: RunResult) -> None:
        kinds = self._kinds
        for record in result.timeline.records:
            ended = record.ended_at
            if ended is None:
                continue
            child = kinds.get(record.kind)
            if child is None:
                child = kinds[record.kind] = self._metrics.task_duration.labels(self.workflow, record.kind)
            child.observe(ended - record.started_at if ended > record.started_at else 0.0)

    def on_call_end(self, handle: object, outcome: CallOutcome) -> None:
        if outcome.status is not None:
            label = f"{outcome.status // 100}xx"
        elif outcome.error and "timed out" in outcome.error.lower():
            label = "timeout"
        else:
            label = "error"
        child = self._calls.get(label)
        if child is None:
            child = self._calls[label] = self._metrics.calls.labels(self.workflow, label)
        child.inc()


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False) if registry is None else registry
        self.runs = _Family(
            "baton_runs",
            "Finished runs by workflow, version and outcome.",
            ["workflow", "version", "outcome"],
            "counter",
        )
        self.run_duration = _Histograms(
            "baton_run_duration_seconds", "Run duration.", ["workflow", "version"], _RUN_BUCKETS
        )
        self.in_flight = _Family("baton_runs_in_flight", "Runs in progress.", ["workflow"], "gauge")
        self.task_duration = _Histograms(
            "baton_task_duration_seconds", "Task duration by kind.", ["workflow", "kind"], _TASK_BUCKETS
        )
        self.calls = _Family(
            "baton_upstream_calls",
            "Upstream HTTP calls by outcome (status class, error or timeout).",
            ["workflow", "outcome"],
            "counter",
        )
        self.refused = _Family(
            "baton_requests_refused",
            "Requests refused before a run, by reason.",
            ["workflow", "reason"],
            "counter",
        )
        self.definitions = _Family("baton_definitions_loaded", "Workflow versions being served.", [], "gauge")
        self.reloads = _Family("baton_reloads", "Definition reloads by result.", ["result"], "counter")
        self.registry.register(
            _Collector(
                [
                    self.runs,
                    self.run_duration,
                    self.in_flight,
                    self.task_duration,
                    self.calls,
                    self.refused,
                    self.definitions,
                    self.reloads,
                ]
            )
        )
        self._per_version: dict[tuple[str, str], RunMetrics] = {}

    def for_version(self, workflow: str, version: str) -> RunMetrics:
        found = self._per_version.get((workflow, version))
        if found is None:
            found = self._per_version[(workflow, version)] = RunMetrics(self, workflow, version)
        return found

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
