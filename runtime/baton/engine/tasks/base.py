"""What every task does around its own work: the spec's data flow, records, errors, timeouts.

``TaskNode.run`` is the hot path of the engine. It is a plain coroutine awaited inline by its
list (no asyncio task per step), touches the timeline once at start and once at end, and
evaluates only the expressions the task defines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from baton.engine._state import RunState, Scope
from baton.engine.errors import ExpressionFault, RuntimeFault, TimeoutFault, WorkflowError
from baton.engine.observers import notify
from baton.engine.schemas import SchemaCheck
from baton.expressions import Expression, ExpressionError, ValueTemplate

if TYPE_CHECKING:
    from baton.engine.compensation import Compensation

__all__ = ["CONTINUE", "END", "EXIT", "EndWorkflow", "TaskNode", "describe_directive", "truthy"]

# Flow directives, resolved at compile time: a non-negative int is the index of a sibling.
CONTINUE: Final = -1
EXIT: Final = -2
END: Final = -3


def describe_directive(directive: int, names: tuple[str, ...]) -> str:
    if directive == CONTINUE:
        return "continue"
    if directive == EXIT:
        return "exit"
    if directive == END:
        return "end"
    return names[directive]


class EndWorkflow(Exception):
    """``then: end``: unwinds every enclosing list up to the (sub-)workflow, carrying the output."""

    def __init__(self, output: Any) -> None:
        super().__init__("end")
        self.output = output


def truthy(value: Any) -> bool:
    """jq truthiness: everything but ``false`` and ``null`` is true."""
    return value is not None and value is not False


class TaskNode:
    """A compiled task. Subclasses implement ``execute``; this class does the rest."""

    kind: str = "task"
    compensable: bool = True

    __slots__ = (
        "compensation",
        "definition",
        "export_as",
        "export_schema",
        "if_",
        "input_from",
        "input_schema",
        "metadata",
        "name",
        "output_as",
        "output_schema",
        "parent",
        "path",
        "then",
        "timeout",
    )

    def __init__(self, *, name: str, path: str, parent: str | None, definition: Mapping[str, Any]) -> None:
        self.name = name
        self.path = path
        self.parent = parent
        self.definition = definition
        self.if_: Expression | None = None
        self.input_from: ValueTemplate | None = None
        self.input_schema: SchemaCheck | None = None
        self.output_as: ValueTemplate | None = None
        self.output_schema: SchemaCheck | None = None
        self.export_as: ValueTemplate | None = None
        self.export_schema: SchemaCheck | None = None
        self.timeout: float | None = None
        self.then: int = CONTINUE
        self.metadata: Mapping[str, Any] = definition.get("metadata") or {}
        self.compensation: Compensation | None = None

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        raise NotImplementedError

    async def run(self, state: RunState, raw_input: Any, locals: Mapping[str, Any]) -> tuple[Any, int]:
        """Run the task on its raw input; return its transformed output and the next directive."""
        prefix = state.prefix
        if prefix:
            path = prefix + self.path
            parent = state.root_parent if self.parent is None else prefix + self.parent
        else:
            path = self.path
            parent = self.parent
        state.step(path)
        record = state.timeline.start(
            path=path,
            name=self.name,
            kind=self.kind,
            parent=parent,
            at=state.clock.time(),
            input=raw_input,
        )
        hooks = state.hooks
        if hooks.task_start:
            notify(hooks.task_start, record)
        scope = Scope(state, locals, node=self, raw_input=raw_input)
        scope.record = record
        try:
            if self.if_ is not None and not truthy(self.if_.evaluate(raw_input, scope)):
                record.status = "skipped"
                record.decision = {"if": False}
                record._output = raw_input
                return raw_input, CONTINUE
            if self.input_schema is not None:
                self.input_schema.check(raw_input, what="task input", instance=path)
            input = raw_input if self.input_from is None else self.input_from.render(raw_input, scope)
            scope.input = input
            if self.timeout is None:
                output = await self.execute(state, input, scope)
            else:
                output = await self._execute_with_timeout(state, input, scope, path)
            if self.output_as is not None:
                output = self.output_as.render(output, scope)
            scope.output = output
            if self.output_schema is not None:
                self.output_schema.check(output, what="task output", instance=path)
            if self.export_as is not None:
                context = self.export_as.render(output, scope)
                if self.export_schema is not None:
                    self.export_schema.check(context, what="exported context", instance=path)
                state.context = context
            record._output = output
            record.status = "completed"
            if self.compensation is not None:
                state.ledger.completed(self, record, input, output)
            directive = scope.directive
            return output, self.then if directive is None else directive
        except WorkflowError as error:
            if error.instance is None or (prefix and error.instance == self.path):
                error.instance = path
            record.status = "faulted"
            record.error = error.to_dict()
            raise
        except ExpressionError as exc:
            expression_fault = ExpressionFault(
                exc.message + (f" in `{exc.expression}`" if exc.expression else "")
            )
            expression_fault.instance = path
            record.status = "faulted"
            record.error = expression_fault.to_dict()
            raise expression_fault from exc
        except EndWorkflow:
            record.status = "completed"
            raise
        except asyncio.CancelledError:
            record.status = "cancelled"
            raise
        except Exception as exc:
            fault = RuntimeFault(f"unexpected {type(exc).__name__}: {exc}", instance=path)
            record.status = "faulted"
            record.error = fault.to_dict()
            raise fault from exc
        finally:
            record.ended_at = state.clock.time()
            if hooks.task_end:
                notify(hooks.task_end, record)

    async def _execute_with_timeout(self, state: RunState, input: Any, scope: Scope, path: str) -> Any:
        assert self.timeout is not None
        try:
            async with state.clock.timeout(self.timeout):
                return await self.execute(state, input, scope)
        except TimeoutError as exc:
            raise TimeoutFault(
                f"task {self.name!r} did not complete within {self.timeout:g}s",
                title="Task timed out",
                instance=path,
            ) from exc
