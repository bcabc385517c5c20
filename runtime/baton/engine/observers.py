"""Hooks for whoever watches runs: OTel spans and metrics, the operator's run summary.

Observers are called inline on the run's task, so they must be quick and must not raise; an
observer that raises is logged and otherwise ignored, never failing the run it watches. An
observer may implement only the hooks it needs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from baton.engine.compiled import RunResult
    from baton.engine.timeline import TaskRecord

__all__ = ["CallInfo", "CallOutcome", "RunInfo", "RunObserver"]

log = logging.getLogger("baton.engine")


@dataclass(slots=True, kw_only=True)
class RunInfo:
    run_id: str
    namespace: str
    name: str
    version: str
    started_at: float


@dataclass(slots=True, kw_only=True)
class CallInfo:
    """An outgoing call about to be made. Observers may add to ``headers`` (e.g. ``traceparent``)."""

    run_id: str
    task: str
    method: str
    url: str
    headers: dict[str, str]
    timeout: float | None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class CallOutcome:
    """How a call ended: an HTTP ``status``, or an ``error`` (``timed_out`` when no answer came in time)."""

    status: int | None
    error: str | None
    duration: float
    timed_out: bool = False


class RunObserver(Protocol):
    def on_run_start(self, run: RunInfo) -> None: ...

    def on_task_start(self, record: TaskRecord) -> None: ...

    def on_task_end(self, record: TaskRecord) -> None: ...

    def on_call_start(self, call: CallInfo) -> object: ...

    def on_call_end(self, handle: object, outcome: CallOutcome) -> None: ...

    def on_run_end(self, result: RunResult) -> None: ...


def notify(observers: tuple[RunObserver, ...], method: str, *args: Any) -> list[object]:
    """Call ``method`` on every observer that has it, shielding the run from observer failures."""
    results: list[object] = []
    for observer in observers:
        hook = getattr(observer, method, None)
        if hook is None:
            results.append(None)
            continue
        try:
            results.append(hook(*args))
        except Exception:
            log.exception("run observer %r failed in %s", observer, method)
            results.append(None)
    return results
