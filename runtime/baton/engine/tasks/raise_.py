"""``raise``: fault with a defined error (inline, or from ``use.errors``)."""

from __future__ import annotations

from typing import Any

from baton.engine._state import RunState, Scope
from baton.engine.errors import WorkflowError
from baton.engine.tasks.base import TaskNode
from baton.expressions import ValueTemplate

__all__ = ["RaiseNode"]


class RaiseNode(TaskNode):
    kind = "raise"
    compensable = False
    __slots__ = ("error",)

    def __init__(self, *, error: ValueTemplate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        problem = self.error.render(input, scope)
        status = problem.get("status")
        raise WorkflowError(
            None if problem.get("detail") is None else str(problem["detail"]),
            type=str(problem["type"]),
            status=status if isinstance(status, int) else 500,
            title=None if problem.get("title") is None else str(problem["title"]),
            instance=problem.get("instance") or self.path,
        )
