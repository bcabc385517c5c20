"""Recent runs kept in memory for ``GET /runs``, ``GET /runs/{id}`` and ``GET /runs/summary``.

History is bounded (oldest finished runs fall out first); runs still in flight always stay
findable, since an async client polls them by the ``Location`` it was given.

Run data is shown at most :data:`SHOWN_DEPTH` levels deep (:func:`shown`): a jq expression can
build task outputs nested far past the interpreter's recursion limit, and every view (JSON, HTML)
must still answer, with the deep part cut off and said so.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from baton.server.definitions import RunReport, TaskEntry
from baton.server.policies import PolicyOutcome
from baton.server.responses import Problem

__all__ = ["SHOWN_DEPTH", "RunRecord", "RunStore", "shown"]

Outcome = Literal["running", "completed", "faulted", "cancelled"]

#: Levels of nesting a view shows of one value (a run's output, a task's input or output).
SHOWN_DEPTH = 64

_PAYLOADS = ("input", "output", "calls")


def shown(value: Any, *, depth: int = SHOWN_DEPTH) -> Any:
    """``value`` with every container nested deeper than ``depth`` levels replaced by a note.

    Iterative, so that any depth is safe; a copy only when something had to be cut.
    """
    if not isinstance(value, dict | list) or not _deeper_than(value, depth):
        return value
    note = f"… nested deeper than {depth} levels, not shown"
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]
    while stack:
        item, parent, slot, level = stack.pop()
        if not isinstance(item, dict | list):
            parent[slot] = item
        elif level > depth:
            parent[slot] = note
        elif isinstance(item, dict):
            copy: dict[Any, Any] = dict.fromkeys(item)  # keeps the keys' order; filled when popped
            parent[slot] = copy
            stack.extend((child, copy, key, level + 1) for key, child in item.items())
        else:
            items: list[Any] = [None] * len(item)
            parent[slot] = items
            stack.extend((child, items, i, level + 1) for i, child in enumerate(item))
    return root[0]


def _deeper_than(value: Any, depth: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > depth:
            return True
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values() if isinstance(child, dict | list))
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item if isinstance(child, dict | list))
    return False


@dataclass(slots=True)
class RunRecord:
    run_id: str
    workflow: str
    version: str
    routed_by: str
    request_id: str
    trace_id: str | None
    started_at: float  # wall clock, seconds since the epoch
    started_monotonic: float
    outcome: Outcome = "running"
    ended_at: float | None = None
    duration: float | None = None
    status_code: int | None = None
    output: Any = None
    problem: Problem | None = None
    report: RunReport | None = field(default=None, repr=False)
    policies: tuple[PolicyOutcome, ...] = ()

    def timeline(self) -> Sequence[TaskEntry]:
        return () if self.report is None else self.report.timeline()

    def brief(self) -> dict[str, Any]:
        return {
            "id": self.run_id,
            "workflow": self.workflow,
            "version": self.version,
            "routedBy": self.routed_by,
            "outcome": self.outcome,
            "status": self.status_code,
            "requestId": self.request_id,
            "traceId": self.trace_id,
            "startedAt": _iso(self.started_at),
            "endedAt": None if self.ended_at is None else _iso(self.ended_at),
            "durationMs": None if self.duration is None else round(self.duration * 1000, 3),
            "location": f"/runs/{self.run_id}",
        }

    def detail(self) -> dict[str, Any]:
        out = self.brief()
        if self.outcome == "completed":
            # The client got the output as the workflow made it; inspection shows it redacted
            # (cut to the shown depth first: less to redact, and nothing too deep to walk).
            output = shown(self.output)
            out["output"] = output if self.report is None else self.report.redact(output)
        if self.problem is not None:
            out["error"] = self.problem.as_json()
            report = self.report
            if report is not None and report.error is not None and report.error.detail:
                # The client's problem keeps a generic detail; the person inspecting reads this.
                out["errorDetail"] = report.redact(report.error.detail)
        out["policies"] = [outcome.as_json() for outcome in self.policies]
        timeline = []
        for entry in self.timeline():
            task = entry.as_json()
            for name in _PAYLOADS:
                if name in task:
                    task[name] = shown(task[name])
            timeline.append(task)
        out["timeline"] = timeline
        return out


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def _percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


class RunStore:
    def __init__(self, *, capacity: int = 1000) -> None:
        self._capacity = capacity
        self._runs: dict[str, RunRecord] = {}
        self._in_flight = 0
        # Totals outlive the bounded history, so the summary counts every run since start.
        self._totals: dict[tuple[str, str], dict[str, int]] = {}
        self._failures: deque[RunRecord] = deque(maxlen=5)
        self._order: deque[str] = deque()

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def started(self, record: RunRecord) -> None:
        self._runs[record.run_id] = record
        self._order.append(record.run_id)
        self._in_flight += 1
        if len(self._runs) > self._capacity:
            self._trim()

    def _trim(self) -> None:
        # Oldest first, O(1) per run: a run still in flight goes to the back of the line and
        # stays findable (an async client polls it by the Location it was given).
        for _ in range(len(self._order)):
            if len(self._runs) <= self._capacity:
                return
            run_id = self._order.popleft()
            record = self._runs.get(run_id)
            if record is None:
                continue
            if record.outcome == "running":
                self._order.append(run_id)
                continue
            del self._runs[run_id]

    def finished(self, record: RunRecord) -> None:
        self._in_flight -= 1
        counts = self._totals.setdefault((record.workflow, record.version), {})
        counts[record.outcome] = counts.get(record.outcome, 0) + 1
        if record.outcome != "completed":
            self._failures.append(record)

    def get(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    def query(
        self,
        *,
        workflow: str | None = None,
        version: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        """Newest first."""
        out: list[RunRecord] = []
        for record in reversed(self._runs.values()):
            if workflow is not None and record.workflow != workflow:
                continue
            if version is not None and record.version != version:
                continue
            if outcome is not None and record.outcome != outcome:
                continue
            out.append(record)
            if len(out) >= limit:
                break
        return out

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(list(self._runs.values()))

    def summary(self) -> dict[str, Any]:
        """Totals since start, durations over the kept history, last run and recent failures."""
        finished = [r for r in self._runs.values() if r.duration is not None]
        groups: dict[tuple[str, str], list[RunRecord]] = {}
        for record in finished:
            groups.setdefault((record.workflow, record.version), []).append(record)
        workflows = []
        for key in sorted(set(self._totals) | set(groups)):
            counts = self._totals.get(key, {})
            workflows.append(
                {"workflow": key[0], "version": key[1], **_counts(counts), **_durations(groups.get(key, []))}
            )
        all_counts: dict[str, int] = {}
        for counts in self._totals.values():
            for outcome, n in counts.items():
                all_counts[outcome] = all_counts.get(outcome, 0) + n
        last = finished[-1] if finished else None
        return {
            **_counts(all_counts),
            "inFlight": self._in_flight,
            **_durations(finished),
            "lastRun": None if last is None else _reference(last),
            "recentFailures": [_reference(r) for r in reversed(self._failures)],
            "workflows": workflows,
        }


def _counts(counts: dict[str, int]) -> dict[str, int]:
    total = sum(counts.values())
    completed = counts.get("completed", 0)
    return {"total": total, "succeeded": completed, "failed": total - completed}


def _durations(records: Sequence[RunRecord]) -> dict[str, float | None]:
    values = sorted(r.duration for r in records if r.duration is not None)
    p50 = _percentile(values, 0.50)
    p95 = _percentile(values, 0.95)
    return {
        "p50Ms": None if p50 is None else round(p50 * 1000, 3),
        "p95Ms": None if p95 is None else round(p95 * 1000, 3),
    }


def _reference(record: RunRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": record.run_id,
        "workflow": record.workflow,
        "version": record.version,
        "outcome": record.outcome,
        "traceId": record.trace_id,
        "startedAt": _iso(record.started_at),
        "endedAt": None if record.ended_at is None else _iso(record.ended_at),
        "durationMs": None if record.duration is None else round(record.duration * 1000, 3),
    }
    if record.problem is not None:
        out["error"] = {"type": record.problem.type, "status": record.problem.status}
    return out
