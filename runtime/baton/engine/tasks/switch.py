"""``switch``: the first case whose ``when`` holds decides the next directive."""

from __future__ import annotations

from typing import Any

from baton.engine._state import RunState, Scope
from baton.engine.tasks.base import TaskNode, truthy
from baton.expressions import Expression

__all__ = ["SwitchCase", "SwitchNode"]


class SwitchCase:
    __slots__ = ("directive", "name", "when")

    def __init__(self, *, name: str, when: Expression | None, directive: int) -> None:
        self.name = name
        self.when = when
        self.directive = directive


class SwitchNode(TaskNode):
    kind = "switch"
    compensable = False
    __slots__ = ("cases", "default")

    def __init__(self, *, cases: tuple[SwitchCase, ...], default: SwitchCase | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cases = cases
        self.default = default

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        chosen = self.default
        for case in self.cases:
            assert case.when is not None
            if truthy(case.when.evaluate(input, scope)):
                chosen = case
                break
        if scope.record is not None:
            scope.record.decision = {"case": None if chosen is None else chosen.name}
        if chosen is not None:
            scope.directive = chosen.directive
        return input
