"""``for``: run the subtasks once per item, each iteration's output feeding the next."""

from __future__ import annotations

from typing import Any

from baton.engine._state import RunState, Scope
from baton.engine.errors import ExpressionFault
from baton.engine.tasks.base import TaskNode, truthy
from baton.engine.tasks.do import TaskList
from baton.expressions import Expression

__all__ = ["ForNode"]


class ForNode(TaskNode):
    kind = "for"
    compensable = False
    __slots__ = ("at", "each", "in_", "tasks", "while_")

    def __init__(
        self,
        *,
        each: str,
        at: str,
        in_: Expression,
        while_: Expression | None,
        tasks: TaskList,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.each = each
        self.at = at
        self.in_ = in_
        self.while_ = while_
        self.tasks = tasks

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        collection = self.in_.evaluate(input, scope)
        if collection is None:
            return input
        if isinstance(collection, dict):
            collection = list(collection.values())
        if not isinstance(collection, list):
            raise ExpressionFault(
                f"for.in must give an array, got {type(collection).__name__}: `{self.in_.source}`"
            )
        data = input
        iterations = 0
        for index, item in enumerate(collection):
            locals = {**scope.locals, self.each: item, self.at: index}
            if self.while_ is not None:
                inner = Scope(state, locals, node=self, raw_input=scope.raw_input, input=data)
                if not truthy(self.while_.evaluate(data, inner)):
                    break
            data = await self.tasks.run(state, data, locals)
            iterations += 1
        if scope.record is not None:
            scope.record.decision = {"iterations": iterations}
        return data
