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

__all__ = ["CallInfo", "CallOutcome", "Hooks", "RunInfo", "RunObserver"]

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


#: (index of the observer in the run's list, the observer, its bound hook)
_Bound = tuple[tuple[int, object, Any], ...]


_HOOK_NAMES = ("on_run_start", "on_task_start", "on_task_end", "on_call_start", "on_call_end", "on_run_end")
_HOOK_SET = frozenset(_HOOK_NAMES)
#: Which hooks each observer class defines: most runs' observers are of the same few classes.
_defined: dict[type, frozenset[str]] = {}


def _hooks_of(observer: object) -> frozenset[str]:
    own = getattr(observer, "__dict__", None)
    if own and not _HOOK_SET.isdisjoint(own):
        # Hooks set on the instance itself: look them up on it, uncached.
        return frozenset(name for name in _HOOK_NAMES if getattr(observer, name, None) is not None)
    cls = type(observer)
    names = _defined.get(cls)
    if names is None:
        names = frozenset(name for name in _HOOK_NAMES if getattr(cls, name, None) is not None)
        if len(_defined) < 256:
            _defined[cls] = names
    return names


class Hooks:
    """The hooks a run's observers implement, looked up once when the run starts.

    The engine tests one tuple per event (``if hooks.task_start:``) and skips the dispatch
    entirely when no observer has that hook: the server's metrics observer has only
    ``on_call_end``, so a run with it pays nothing for task and run events.
    """

    __slots__ = ("call_end", "call_start", "count", "run_end", "run_start", "task_end", "task_start")

    def __init__(self, observers: tuple[RunObserver, ...] = ()) -> None:
        self.count = len(observers)
        none: _Bound = ()
        self.run_start = self.task_start = self.task_end = none
        self.call_start = self.call_end = self.run_end = none
        if not observers:
            return
        bound: dict[str, list[tuple[int, object, Any]]] = {name: [] for name in _HOOK_NAMES}
        for i, observer in enumerate(observers):
            for name in _hooks_of(observer):
                bound[name].append((i, observer, getattr(observer, name)))
        self.run_start = tuple(bound["on_run_start"])
        self.task_start = tuple(bound["on_task_start"])
        self.task_end = tuple(bound["on_task_end"])
        self.call_start = tuple(bound["on_call_start"])
        self.call_end = tuple(bound["on_call_end"])
        self.run_end = tuple(bound["on_run_end"])

    def __bool__(self) -> bool:
        return self.count > 0


def notify(hooks: _Bound, *args: Any) -> None:
    """Call each bound hook, shielding the run from observer failures."""
    for _, observer, hook in hooks:
        try:
            hook(*args)
        except Exception:
            log.exception("run observer %r failed in %s", observer, getattr(hook, "__name__", hook))


def notify_call_start(hooks: Hooks, call: CallInfo) -> list[object] | None:
    """``on_call_start`` on every observer that has it; the handles, by observer index."""
    if not hooks.call_start:
        return None
    handles: list[object] = [None] * hooks.count
    for i, observer, hook in hooks.call_start:
        try:
            handles[i] = hook(call)
        except Exception:
            log.exception("run observer %r failed in on_call_start", observer)
    return handles


def notify_call_end(hooks: Hooks, handles: list[object] | None, outcome: CallOutcome) -> None:
    """``on_call_end`` with the handle each observer's ``on_call_start`` returned (or None)."""
    for i, observer, hook in hooks.call_end:
        try:
            hook(None if handles is None else handles[i], outcome)
        except Exception:
            log.exception("run observer %r failed in on_call_end", observer)
