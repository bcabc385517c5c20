"""``fork``: branches run concurrently and join by policy (see ``baton.engine.joins``)."""

from __future__ import annotations

import asyncio
from typing import Any

from baton.engine._state import RunState, Scope
from baton.engine.errors import RuntimeFault, WorkflowError
from baton.engine.joins import JoinPolicy
from baton.engine.tasks.base import TaskNode

__all__ = ["ForkNode"]


class ForkNode(TaskNode):
    kind = "fork"
    compensable = False
    __slots__ = ("branches", "policy")

    def __init__(self, *, branches: tuple[TaskNode, ...], policy: JoinPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.branches = branches
        self.policy = policy

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        policy = self.policy
        branches = self.branches
        if not branches:
            return [] if policy.kind != "any" else input
        tasks = [asyncio.create_task(branch.run(state, input, scope.locals)) for branch in branches]
        index_of = {task: i for i, task in enumerate(tasks)}
        results: dict[int, Any] = {}
        errors: dict[int, BaseException] = {}
        pending: set[asyncio.Task[tuple[Any, int]]] = set(tasks)
        try:
            while pending and len(results) < policy.needed:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=index_of.__getitem__):
                    i = index_of[task]
                    if task.cancelled():
                        errors[i] = asyncio.CancelledError()
                        continue
                    exc = task.exception()
                    if exc is None:
                        if len(results) < policy.needed:
                            results[i] = task.result()[0]
                        continue
                    if not isinstance(exc, WorkflowError) or policy.kind == "all":
                        raise exc
                    errors[i] = exc
                if len(branches) - len(errors) < policy.needed:
                    raise self._unreachable(errors)
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            if scope.record is not None:
                scope.record.decision = {
                    "join": policy.describe(),
                    "winners": [branches[i].name for i in sorted(results)],
                    "failed": [branches[i].name for i in sorted(errors)],
                    "cancelled": [
                        branches[index_of[t]].name for t in sorted(pending, key=index_of.__getitem__)
                    ],
                }
        if policy.kind == "any":
            return results[min(results)]
        return [results[i] for i in sorted(results)]

    def _unreachable(self, errors: dict[int, BaseException]) -> WorkflowError:
        failures = {i: e for i, e in errors.items() if isinstance(e, WorkflowError)}
        if self.policy.kind == "any" and len(failures) == len(self.branches):
            # Every branch failed: surface the first declared branch's own error, so that
            # catch filters on its type and status still apply.
            return failures[min(failures)]
        listed = "; ".join(f"{self.branches[i].name}: {e}" for i, e in sorted(failures.items()))
        return RuntimeFault(
            f"join {self.policy.describe()} cannot be reached: {len(failures)} of "
            f"{len(self.branches)} branches failed ({listed})",
            title="Fork join failed",
        )
