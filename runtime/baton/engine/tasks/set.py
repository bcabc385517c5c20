"""``set``: the task's output is the rendered object (or the value of one expression)."""

from __future__ import annotations

from typing import Any

from baton.engine._state import RunState, Scope
from baton.engine.tasks.base import TaskNode
from baton.expressions import ValueTemplate

__all__ = ["SetNode"]


class SetNode(TaskNode):
    kind = "set"
    __slots__ = ("value",)

    def __init__(self, *, value: ValueTemplate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        return self.value.render(input, scope)
