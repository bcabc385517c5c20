"""``wait``: pause on the environment's clock (instant under a fake clock in tests)."""

from __future__ import annotations

from typing import Any

from baton.dsl import DurationError, duration_seconds
from baton.engine._state import RunState, Scope
from baton.engine.errors import ExpressionFault
from baton.engine.tasks.base import TaskNode
from baton.expressions import Expression

__all__ = ["WaitNode"]


class WaitNode(TaskNode):
    kind = "wait"
    compensable = False
    __slots__ = ("expression", "seconds")

    def __init__(self, *, seconds: float | None, expression: Expression | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds
        self.expression = expression

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        seconds = self.seconds
        if seconds is None:
            assert self.expression is not None
            value = self.expression.evaluate(input, scope)
            try:
                seconds = duration_seconds(value)
            except DurationError as exc:
                raise ExpressionFault(f"wait duration: {exc}") from exc
        await state.clock.sleep(seconds)
        return input
