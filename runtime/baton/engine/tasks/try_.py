"""``try``/``catch``: filter errors, retry the block by policy, else run the handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baton.engine._state import RunState, Scope
from baton.engine.errors import TimeoutFault, WorkflowError, error_kind
from baton.engine.retries import RetryPolicy
from baton.engine.tasks.base import TaskNode, truthy
from baton.engine.tasks.do import TaskList
from baton.expressions import Expression

__all__ = ["ErrorFilter", "TryNode"]


class ErrorFilter:
    """``catch.errors.with``: every property given must equal the error's."""

    __slots__ = ("fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        # `details` is the schema's spelling of the problem's `detail`.
        self.fields = {("detail" if k == "details" else k): v for k, v in fields.items()}

    def matches(self, error: WorkflowError) -> bool:
        problem = error.to_dict()
        for key, expected in self.fields.items():
            actual = problem.get(key)
            if key == "type" and isinstance(expected, str) and isinstance(actual, str):
                if actual == expected:
                    continue
                kind = error_kind(expected)
                if kind is None or kind != error_kind(actual):
                    return False
                continue
            if actual != expected:
                return False
        return True


class TryNode(TaskNode):
    kind = "try"
    compensable = False
    __slots__ = ("as_", "catch_do", "except_when", "filter", "retry", "tasks", "when")

    def __init__(
        self,
        *,
        tasks: TaskList,
        filter: ErrorFilter | None,
        as_: str,
        when: Expression | None,
        except_when: Expression | None,
        retry: RetryPolicy | None,
        catch_do: TaskList | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tasks = tasks
        self.filter = filter
        self.as_ = as_
        self.when = when
        self.except_when = except_when
        self.retry = retry
        self.catch_do = catch_do

    def _catches(self, error: WorkflowError, state: RunState, scope: Scope) -> tuple[bool, Mapping[str, Any]]:
        if self.filter is not None and not self.filter.matches(error):
            return False, scope.locals
        problem = error.to_dict()
        locals = {**scope.locals, self.as_: problem}
        if self.when is not None or self.except_when is not None:
            inner = Scope(state, locals, node=self, raw_input=scope.raw_input, input=scope.input)
            if self.when is not None and not truthy(self.when.evaluate(problem, inner)):
                return False, locals
            if self.except_when is not None and truthy(self.except_when.evaluate(problem, inner)):
                return False, locals
        return True, locals

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        started = state.clock.monotonic()
        retries = 0
        while True:
            try:
                return await self._attempt(state, input, scope)
            except WorkflowError as error:
                caught, locals = self._catches(error, state, scope)
                if not caught:
                    raise
                policy = self.retry
                if policy is not None and self._retry_applies(policy, error, locals, state, scope):
                    delay = policy.delay_before(retries + 1, state.env.random)
                    elapsed = state.clock.monotonic() - started
                    if policy.allows(retries + 1, elapsed=elapsed, delay=delay):
                        retries += 1
                        if scope.record is not None:
                            scope.record.attempts = retries + 1
                        state.step(self.path)
                        await state.clock.sleep(delay)
                        continue
                    if self.catch_do is None:
                        raise
                if scope.record is not None:
                    scope.record.decision = {"caught": error.to_dict(), "attempts": retries + 1}
                if self.catch_do is None:
                    return input
                return await self.catch_do.run(state, input, locals)

    async def _attempt(self, state: RunState, input: Any, scope: Scope) -> Any:
        policy = self.retry
        if policy is None or policy.attempt_timeout is None:
            return await self.tasks.run(state, input, scope.locals)
        try:
            async with state.clock.timeout(policy.attempt_timeout):
                return await self.tasks.run(state, input, scope.locals)
        except TimeoutError as exc:
            raise TimeoutFault(
                f"attempt did not complete within {policy.attempt_timeout:g}s (retry limit.attempt.duration)",
                title="Attempt timed out",
                instance=self.path,
            ) from exc

    def _retry_applies(
        self,
        policy: RetryPolicy,
        error: WorkflowError,
        locals: Mapping[str, Any],
        state: RunState,
        scope: Scope,
    ) -> bool:
        if policy.when is None and policy.except_when is None:
            return True
        problem = error.to_dict()
        inner = Scope(state, locals, node=self, raw_input=scope.raw_input, input=scope.input)
        if policy.when is not None and not truthy(policy.when.evaluate(problem, inner)):
            return False
        return not (policy.except_when is not None and truthy(policy.except_when.evaluate(problem, inner)))
