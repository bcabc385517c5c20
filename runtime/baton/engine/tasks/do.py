"""``do``: subtasks in sequence, following flow directives within the list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baton.engine._state import RunState, Scope
from baton.engine.tasks.base import CONTINUE, END, EXIT, EndWorkflow, TaskNode

__all__ = ["DoNode", "TaskList"]


class TaskList:
    """An ordered list of sibling tasks; ``then`` targets were resolved to indices at compile time."""

    __slots__ = ("names", "nodes")

    def __init__(self, nodes: tuple[TaskNode, ...]) -> None:
        self.nodes = nodes
        self.names = tuple(node.name for node in nodes)

    async def run(self, state: RunState, data: Any, locals: Mapping[str, Any]) -> Any:
        nodes = self.nodes
        count = len(nodes)
        index = 0
        while index < count:
            data, directive = await nodes[index].run(state, data, locals)
            if directive == CONTINUE:
                index += 1
            elif directive >= 0:
                index = directive
            elif directive == EXIT:
                break
            elif directive == END:
                raise EndWorkflow(data)
        return data


class DoNode(TaskNode):
    kind = "do"
    compensable = False
    __slots__ = ("tasks",)

    def __init__(self, *, tasks: TaskList, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tasks = tasks

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        return await self.tasks.run(state, input, scope.locals)
