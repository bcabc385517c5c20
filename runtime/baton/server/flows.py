"""The one module that knows the engine's types: compiles documents and runs them for the server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from baton.engine import (
    Catalog,
    CompiledWorkflow,
    Limits,
    RunEnvironment,
    RunResult,
    TaskRecord,
    compile_workflow,
)
from baton.server.definitions import RunReport, TaskEntry

__all__ = ["EngineFlow", "FlowBuilder", "run_result_of"]


def _decision(record: TaskRecord) -> str | None:
    decision = record.decision
    if not decision:
        return None
    return ", ".join(f"{key}: {value}" for key, value in decision.items())


def _entries(result: RunResult) -> Sequence[TaskEntry]:
    origin = result.started_at
    entries = []
    for record in result.timeline:
        error = record.shown_error
        entries.append(
            TaskEntry(
                path=record.path,
                name=record.name,
                kind=record.kind,
                parent=record.parent,
                start=max(0.0, record.started_at - origin),
                end=None if record.ended_at is None else max(0.0, record.ended_at - origin),
                status=record.status,
                attempts=record.attempts,
                decision=_decision(record),
                error=None if error is None else str(error.get("title") or error.get("type")),
                error_detail=None if error is None or not error.get("detail") else str(error["detail"]),
                input=record.input,
                output=record.output,
            )
        )
    return tuple(entries)


class _Report(RunReport):
    __slots__ = ("result",)

    result: RunResult


def run_result_of(report: RunReport) -> RunResult | None:
    """The engine's own result behind a report (for observers that want the raw timeline)."""
    return getattr(report, "result", None)


class EngineFlow:
    """A compiled workflow bound to the server's run environment."""

    __slots__ = ("compiled", "env")

    def __init__(self, compiled: CompiledWorkflow, env: RunEnvironment) -> None:
        self.compiled = compiled
        self.env = env

    async def run(
        self,
        input: Any,
        *,
        run_id: str,
        deadline: float | None,
        call_headers: Mapping[str, str],
        observers: Sequence[Any],
        input_validated: bool = False,
    ) -> RunReport:
        """Run the workflow; ``input_validated`` when the intake already checked ``input``
        against the document's input schema, so the engine does not check it twice."""
        result = await self.compiled.run(
            input,
            env=self.env,
            run_id=run_id,
            deadline=deadline,
            observers=observers,
            call_headers=call_headers,
            input_validated=input_validated,
        )
        report = _Report(
            result.status,
            result.output,
            result.error,
            lambda: _entries(result),
            result.timeline.redactor.redact,
        )
        report.result = result
        return report


class FlowBuilder:
    """Compiles documents into flows on one shared environment (one HTTP pool per server)."""

    def __init__(self, env: RunEnvironment, *, limits: Limits | None = None, catalog: Catalog | None = None):
        self.env = env
        self.limits = limits
        self.catalog = catalog

    def build(self, document: Mapping[str, Any], /, *, catalog: Catalog | None = None) -> EngineFlow:
        """Raises ``CompileError`` listing every problem.

        ``catalog`` holds the documents a ``run: workflow`` task may name: those of the same
        file, as ``baton validate FILE`` resolves them, so serve runs what validate accepted.
        """
        return EngineFlow(
            compile_workflow(document, catalog=catalog or self.catalog, limits=self.limits), self.env
        )
