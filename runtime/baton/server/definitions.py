"""What the server serves: one loaded, compiled version of a Workflow, and how it is run.

The server talks to the engine through the small ``Flow`` protocol below, so that routing,
intake, idempotency and inspection are written once against a stable shape, and the engine's
own types appear in exactly one adapter module (``baton.server.flows``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from baton.manifests import Endpoint, Workflow
from baton.server.intake import Intake
from baton.server.policies import Gate
from baton.server.responses import ErrorLike

__all__ = [
    "Definition",
    "Flow",
    "RunReport",
    "RunStatus",
    "TaskEntry",
]

RunStatus = Literal["completed", "faulted", "cancelled"]


@dataclass(frozen=True, slots=True)
class TaskEntry:
    """One task of a run's timeline, as inspection shows it (inputs/outputs already redacted)."""

    path: str
    name: str
    kind: str
    parent: str | None
    start: float  # seconds since the run started
    end: float | None
    status: str
    attempts: int = 1
    decision: str | None = None
    error: str | None = None
    #: What went wrong in the engine's words (method, URL, what and where), secrets redacted:
    #: the client's problem keeps a generic detail, the operator inspecting the run needs this.
    error_detail: str | None = None
    input: Any = None
    output: Any = None
    calls: tuple[dict[str, Any], ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "name": self.name,
            "kind": self.kind,
            "parent": self.parent,
            "startMs": round(self.start * 1000, 3),
            "endMs": None if self.end is None else round(self.end * 1000, 3),
            "status": self.status,
            "attempts": self.attempts,
        }
        for key, value in (
            ("decision", self.decision),
            ("error", self.error),
            ("errorDetail", self.error_detail),
        ):
            if value is not None:
                out[key] = value
        if self.input is not None:
            out["input"] = self.input
        if self.output is not None:
            out["output"] = self.output
        if self.calls:
            out["calls"] = list(self.calls)
        return out


@dataclass(slots=True)
class RunReport:
    """How a run ended. ``timeline`` is built on demand: most runs are never inspected."""

    status: RunStatus
    output: Any = None
    error: ErrorLike | None = None
    timeline: Callable[[], Sequence[TaskEntry]] = field(default=lambda: ())
    #: Masks the run's secret values in a value shown anywhere but the client's own response.
    redact: Callable[[Any], Any] = field(default=lambda value: value)


class Flow(Protocol):
    """A compiled workflow version bound to its run environment."""

    async def run(
        self,
        input: Any,
        *,
        run_id: str,
        deadline: float | None,
        call_headers: Mapping[str, str],
        observers: Sequence[Any],
        input_validated: bool = False,
    ) -> RunReport: ...


@dataclass(frozen=True, slots=True)
class Definition:
    """One servable version of one Workflow resource."""

    name: str  # the Workflow resource's metadata.name
    version: str  # the DSL document's document.version
    file: str
    manifest: Workflow
    document: Mapping[str, Any]
    flow: Flow
    weight: int
    intake: Intake
    canary: bool = False
    #: The Policies of ``spec.policies``, bound when the router is built (they may live in
    #: other files than the manifest).
    gate: Gate | None = None

    @property
    def endpoint(self) -> Endpoint:
        return self.manifest.spec.endpoint

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.version)
