"""Compensation (saga), a Baton extension carried in task ``metadata``.

A task that names a compensating task (``metadata: {baton.compensateBy: <function>}``, the
name of a task in ``use.functions``, or an inline task definition) is *compensable*. Each time
it completes, the run's ledger notes it. If the run then faults, every noted completion is
compensated in reverse completion order: the compensating task runs with the completed task's
output as its input and ``$compensation`` describing what it undoes (``task``, ``reference``,
``input``, ``output``, ``error``: the fault being compensated). A compensation that fails is
recorded and the others still run. Cancelled runs are not compensated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from baton.engine.errors import WorkflowError
from baton.engine.timeline import CompensationRecord

if TYPE_CHECKING:
    from baton.engine._state import RunState
    from baton.engine.tasks.base import TaskNode
    from baton.engine.timeline import TaskRecord

__all__ = ["COMPENSATE_KEY", "Compensation", "Ledger"]

COMPENSATE_KEY = "baton.compensateBy"


@dataclass(frozen=True, slots=True)
class Compensation:
    handler: TaskNode
    label: str


@dataclass(frozen=True, slots=True)
class _Entry:
    node: TaskNode
    record: TaskRecord
    input: Any
    output: Any


class Ledger:
    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[_Entry] = []

    def completed(self, node: TaskNode, record: TaskRecord, input: Any, output: Any) -> None:
        self.entries.append(_Entry(node, record, input, output))

    async def compensate(self, state: RunState, error: WorkflowError) -> list[CompensationRecord]:
        """Run every compensation, newest completion first; never raises for a failed one."""
        done: list[CompensationRecord] = []
        fault = error.to_dict()
        while self.entries:
            entry = self.entries.pop()
            compensation = entry.node.compensation
            assert compensation is not None
            record = CompensationRecord(
                compensated=entry.record.path,
                handler=compensation.label,
                started_at=state.clock.time(),
                redactor=state.timeline.redactor,
            )
            state.timeline.compensations.append(record)
            done.append(record)
            locals = {
                "compensation": {
                    "task": entry.node.name,
                    "reference": entry.node.path,
                    "input": entry.input,
                    "output": entry.output,
                    "error": fault,
                }
            }
            try:
                record.output, _ = await compensation.handler.run(state, entry.output, locals)
                record.status = "completed"
            except WorkflowError as failure:
                record.status = "faulted"
                record.error = failure.to_dict()
            finally:
                record.ended_at = state.clock.time()
        return done
