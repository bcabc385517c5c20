"""Prometheus metrics on ``/metrics``: runs, durations, in-flight runs, tasks, upstream calls.

Each server owns its registry (no process-global state, so several servers, e.g. in tests,
never collide). Label children are looked up once per (workflow, version) and reused: a
labelled lookup costs more than the increment itself on the hot path.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from baton.engine import CallInfo, CallOutcome, RunInfo, RunResult, TaskRecord

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "RunMetrics"]

_RUN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_TASK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60)


def _call_outcome(outcome: CallOutcome) -> str:
    if outcome.status is None:
        return "timeout" if outcome.error and "timed out" in outcome.error.lower() else "error"
    return f"{outcome.status // 100}xx"


class RunMetrics:
    """One workflow version's metric children, and the engine observer feeding task and call metrics."""

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
        self._kinds: dict[str, Any] = {}
        self._calls: dict[str, Any] = {}

    # -- RunObserver: tasks and calls (runs are counted by the server, which knows the outcome) --

    def on_run_start(self, run: RunInfo) -> None:
        pass

    def on_run_end(self, result: RunResult) -> None:
        pass

    def on_task_start(self, record: TaskRecord) -> None:
        pass

    def on_task_end(self, record: TaskRecord) -> None:
        if record.ended_at is None:
            return
        child = self._kinds.get(record.kind)
        if child is None:
            child = self._kinds[record.kind] = self._metrics.task_duration.labels(self.workflow, record.kind)
        child.observe(max(0.0, record.ended_at - record.started_at))

    def on_call_start(self, call: CallInfo) -> object:
        return None

    def on_call_end(self, handle: object, outcome: CallOutcome) -> None:
        label = _call_outcome(outcome)
        child = self._calls.get(label)
        if child is None:
            child = self._calls[label] = self._metrics.calls.labels(self.workflow, label)
        child.inc()


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs = Counter(
            "baton_runs",
            "Finished runs by workflow, version and outcome.",
            ["workflow", "version", "outcome"],
            registry=r,
        )
        self.run_duration = Histogram(
            "baton_run_duration_seconds",
            "Run duration.",
            ["workflow", "version"],
            buckets=_RUN_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("baton_runs_in_flight", "Runs in progress.", ["workflow"], registry=r)
        self.task_duration = Histogram(
            "baton_task_duration_seconds",
            "Task duration by kind.",
            ["workflow", "kind"],
            buckets=_TASK_BUCKETS,
            registry=r,
        )
        self.calls = Counter(
            "baton_upstream_calls",
            "Upstream HTTP calls by outcome (status class, error or timeout).",
            ["workflow", "outcome"],
            registry=r,
        )
        self.refused = Counter(
            "baton_requests_refused",
            "Requests refused before a run, by reason.",
            ["workflow", "reason"],
            registry=r,
        )
        self.definitions = Gauge("baton_definitions_loaded", "Workflow versions being served.", registry=r)
        self.reloads = Counter("baton_reloads", "Definition reloads by result.", ["result"], registry=r)
        self._per_version: dict[tuple[str, str], RunMetrics] = {}

    def for_version(self, workflow: str, version: str) -> RunMetrics:
        found = self._per_version.get((workflow, version))
        if found is None:
            found = self._per_version[(workflow, version)] = RunMetrics(self, workflow, version)
        return found

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
