"""``run: workflow``: a sub-workflow from the catalog, sharing the run's budgets and timeline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from baton.engine._state import RunState, Scope
from baton.engine.errors import LimitExceeded
from baton.engine.tasks.base import TaskNode
from baton.expressions import ValueTemplate

if TYPE_CHECKING:
    from baton.engine.compiled import CompiledWorkflow

__all__ = ["CallFunctionNode", "RunWorkflowNode"]


class RunWorkflowNode(TaskNode):
    kind = "run"
    __slots__ = ("_resolve", "_target", "await_", "input_template", "label")

    def __init__(
        self,
        *,
        resolve: Callable[[], CompiledWorkflow],
        label: str,
        input_template: ValueTemplate | None,
        await_: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Resolved on first use, so that workflows in a catalog may refer to each other.
        self._resolve = resolve
        self._target: CompiledWorkflow | None = None
        self.label = label
        self.input_template = input_template
        self.await_ = await_

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        if state.depth + 1 > state.limits.max_depth:
            raise LimitExceeded(
                f"sub-workflow {self.label} would nest deeper than {state.limits.max_depth} "
                "(Limits.max_depth)",
                title="Sub-workflows nested too deep",
            )
        target = self._target
        if target is None:
            target = self._target = self._resolve()
        child_input = input if self.input_template is None else self.input_template.render(input, scope)
        here = state.prefix + self.path
        child = state.child(
            definition=target.definition,
            raw_input=child_input,
            name=self.label,
            prefix=f"{here}/run/workflow",
            root_parent=here,
        )
        if self.await_:
            return await target.execute_in(child, child_input)
        task = asyncio.create_task(target.execute_in(child, child_input))
        state.env.background.add(task)
        task.add_done_callback(state.env.background.discard)
        return input


class CallFunctionNode(TaskNode):
    """``call: <name>`` of a task in ``use.functions``: the ``with`` arguments are its input."""

    kind = "call"
    __slots__ = ("arguments", "function")

    def __init__(self, *, function: TaskNode, arguments: ValueTemplate | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        arguments = input if self.arguments is None else self.arguments.render(input, scope)
        output, _ = await self.function.run(state, arguments, scope.locals)
        return output
