"""``fork``: branches run concurrently and join by policy (see ``baton.engine.joins``)."""

from __future__ import annotations

import asyncio
import functools
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
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(branch.run(state, input, scope.locals)) for branch in branches]
        # Completions are noted by one done-callback per branch and the join wakes on one
        # future: asyncio.wait would add and remove a callback on every pending branch each
        # time it is awaited, and build sets and a future per wake-up.
        finished: list[int] = []
        wake: list[asyncio.Future[None]] = []

        def on_done(index: int, _: object) -> None:
            finished.append(index)
            if wake and not wake[0].done():
                wake[0].set_result(None)

        for i, task in enumerate(tasks):
            task.add_done_callback(functools.partial(on_done, i))
        results: dict[int, Any] = {}
        errors: dict[int, BaseException] = {}
        pending = set(range(len(tasks)))
        try:
            while pending and len(results) < policy.needed:
                if not finished:
                    wake[:] = [loop.create_future()]
                    await wake[0]
                done = sorted(finished)
                finished.clear()
                pending.difference_update(done)
                for i in done:
                    task = tasks[i]
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
            for i in pending:
                tasks[i].cancel()
            if pending:
                await asyncio.gather(*(tasks[i] for i in pending), return_exceptions=True)
            if scope.record is not None:
                scope.record.decision = {
                    "join": policy.describe(),
                    "winners": [branches[i].name for i in sorted(results)],
                    "failed": [branches[i].name for i in sorted(errors)],
                    "cancelled": [branches[i].name for i in sorted(pending)],
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
