"""A compiled workflow and its runs: ``run`` to await a result, ``start`` for a cancellable handle."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from baton.engine._state import RunState, Scope
from baton.engine.compensation import Ledger
from baton.engine.environment import RunEnvironment
from baton.engine.errors import ExpressionFault, RuntimeFault, TimeoutFault, WorkflowError
from baton.engine.limits import Limits
from baton.engine.observers import Hooks, RunInfo, RunObserver, notify
from baton.engine.schemas import SchemaCheck
from baton.engine.tasks.base import EndWorkflow
from baton.engine.tasks.do import TaskList
from baton.engine.timeline import CompensationRecord, Redactor, Timeline
from baton.expressions import ExpressionError, ValueTemplate

__all__ = ["CompiledWorkflow", "RunHandle", "RunResult", "RunStatus"]

RunStatus = Literal["completed", "faulted", "cancelled"]

log = logging.getLogger("baton.engine")

_NO_SECRETS = Redactor()


def _transform(template: ValueTemplate, data: Any, scope: Scope, instance: str) -> Any:
    try:
        return template.render(data, scope)
    except ExpressionError as exc:
        where = f" in `{exc.expression}`" if exc.expression else ""
        raise ExpressionFault(exc.message + where, instance=instance) from exc


@dataclass(slots=True, kw_only=True)
class RunResult:
    run_id: str
    status: RunStatus
    output: Any
    error: WorkflowError | None
    timeline: Timeline
    started_at: float
    ended_at: float
    compensations: list[CompensationRecord] = field(default_factory=list)

    def to_dict(self, *, timeline: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = {
            "runId": self.run_id,
            "status": self.status,
            "output": self.output,
            "error": None if self.error is None else self.error.to_dict(),
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "compensations": [c.to_dict() for c in self.compensations],
        }
        if timeline:
            result["timeline"] = self.timeline.to_dict()["tasks"]
        return result


class RunHandle:
    """A run in progress: ``cancel()`` stops it (in-flight calls and timers included)."""

    def __init__(self, state: RunState) -> None:
        self.run_id = state.run_id
        self.cancel_requested = False
        self._state = state
        self._task: asyncio.Task[RunResult] | None = None

    def cancel(self) -> None:
        self.cancel_requested = True
        if self._task is not None:
            self._task.cancel()

    def done(self) -> bool:
        return self._task is not None and self._task.done()

    async def result(self) -> RunResult:
        assert self._task is not None
        try:
            return await asyncio.shield(self._task)
        except asyncio.CancelledError:
            if not (self._task.cancelled() and self.cancel_requested):
                raise
            # Cancelled before it even started: nothing ran, nothing to record.
            state = self._state
            return RunResult(
                run_id=self.run_id,
                status="cancelled",
                output=None,
                error=None,
                timeline=state.timeline,
                started_at=state.started_at,
                ended_at=state.clock.time(),
            )


class CompiledWorkflow:
    """The executable form of one document; immutable, shared by any number of concurrent runs."""

    def __init__(
        self,
        *,
        namespace: str,
        name: str,
        version: str,
        definition: Mapping[str, Any],
        tasks: TaskList,
        limits: Limits,
        secret_names: tuple[str, ...],
        input_schema: SchemaCheck | None,
        input_from: ValueTemplate | None,
        output_as: ValueTemplate | None,
        output_schema: SchemaCheck | None,
        timeout: float | None,
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.version = version
        self.definition = definition
        self.tasks = tasks
        self.limits = limits
        self.secret_names = secret_names
        self.input_schema = input_schema
        self.input_from = input_from
        self.output_as = output_as
        self.output_schema = output_schema
        self.timeout = timeout

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}:{self.version}"

    async def execute_in(self, state: RunState, raw_input: Any, *, input_validated: bool = False) -> Any:
        """The workflow's data flow on an existing state (used for runs and sub-workflows)."""
        if self.timeout is None:
            return await self._flow(state, raw_input, input_validated)
        try:
            async with state.clock.timeout(self.timeout):
                return await self._flow(state, raw_input, input_validated)
        except TimeoutError as exc:
            raise TimeoutFault(
                f"workflow {self.label} did not complete within {self.timeout:g}s",
                title="Workflow timed out",
                instance="/",
            ) from exc

    async def _flow(self, state: RunState, raw_input: Any, input_validated: bool) -> Any:
        scope = Scope(state, {}, raw_input=raw_input)
        if self.input_schema is not None and not input_validated:
            self.input_schema.check(raw_input, what="workflow input", instance="/input")
        data = (
            raw_input
            if self.input_from is None
            else _transform(self.input_from, raw_input, scope, "/input/from")
        )
        state.context = data if isinstance(data, dict) else {}
        # `$input` in the workflow's `output.as` is its transformed input, as a task's `$input`
        # is the task's transformed input.
        scope.input = data
        try:
            output = await self.tasks.run(state, data, {})
        except EndWorkflow as end:
            output = end.output
        if self.output_as is not None:
            output = _transform(self.output_as, output, scope, "/output/as")
        if self.output_schema is not None:
            self.output_schema.check(output, what="workflow output", instance="/output")
        return output

    def _state(
        self,
        raw_input: Any,
        *,
        env: RunEnvironment,
        run_id: str | None,
        deadline: float | None,
        observers: Sequence[RunObserver],
        call_headers: Mapping[str, str] | None,
    ) -> RunState:
        secrets = {name: env.secrets[name] for name in self.secret_names if name in env.secrets}
        return RunState(
            run_id=run_id or uuid.uuid4().hex,
            env=env,
            limits=self.limits,
            # A run without secrets shares the empty redactor (immutable) instead of building one.
            timeline=Timeline(Redactor(secrets.values()) if secrets else _NO_SECRETS),
            secrets=secrets,
            definition=self.definition,
            raw_input=raw_input,
            hooks=Hooks(tuple(observers)),
            call_headers=dict(call_headers or {}),
            deadline=deadline,
            ledger=Ledger(),
            workflow_name=self.label,
        )

    async def run(
        self,
        input: Any = None,
        *,
        env: RunEnvironment,
        run_id: str | None = None,
        deadline: float | None = None,
        observers: Sequence[RunObserver] = (),
        call_headers: Mapping[str, str] | None = None,
        input_validated: bool = False,
    ) -> RunResult:
        """Run to the end. Faults are reported in the result, never raised.

        ``deadline`` is a point on ``env.clock.monotonic()``: the run's whole budget. If the
        caller is cancelled, the run is cancelled with it and ``CancelledError`` propagates.
        ``input_validated``: the caller already checked ``input`` against this workflow's
        ``input.schema`` (the server's intake does, listing every violation), so the engine
        does not check it again.
        """
        state = self._state(
            input, env=env, run_id=run_id, deadline=deadline, observers=observers, call_headers=call_headers
        )
        return await self._run(state, input, handle=None, input_validated=input_validated)

    def start(
        self,
        input: Any = None,
        *,
        env: RunEnvironment,
        run_id: str | None = None,
        deadline: float | None = None,
        observers: Sequence[RunObserver] = (),
        call_headers: Mapping[str, str] | None = None,
        input_validated: bool = False,
    ) -> RunHandle:
        """Start a run in the background; its handle can cancel it and await its result."""
        state = self._state(
            input, env=env, run_id=run_id, deadline=deadline, observers=observers, call_headers=call_headers
        )
        handle = RunHandle(state)
        handle._task = asyncio.create_task(
            self._run(state, input, handle=handle, input_validated=input_validated)
        )
        return handle

    async def _run(
        self, state: RunState, raw_input: Any, *, handle: RunHandle | None, input_validated: bool = False
    ) -> RunResult:
        clock = state.clock
        started_at = state.started_at
        hooks = state.hooks
        if hooks.run_start:
            info = RunInfo(
                run_id=state.run_id,
                namespace=self.namespace,
                name=self.name,
                version=self.version,
                started_at=started_at,
            )
            notify(hooks.run_start, info)
        output: Any = None
        error: WorkflowError | None = None
        status: RunStatus = "completed"
        try:
            self.limits.check_payload(raw_input, what="run input", instance="/input")
            remaining = state.remaining()
            if remaining is None:
                output = await self.execute_in(state, raw_input, input_validated=input_validated)
            else:
                try:
                    async with clock.timeout(remaining):
                        output = await self.execute_in(state, raw_input, input_validated=input_validated)
                except TimeoutError as exc:
                    raise TimeoutFault(
                        "the run's deadline passed", title="Deadline exceeded", instance="/"
                    ) from exc
            self.limits.check_payload(output, what="run output", instance="/output")
        except WorkflowError as exc:
            error = exc
            status = "faulted"
            output = None  # an output over the payload limit must not be kept (or sent) after all
        except Exception as exc:  # an engine bug must still end as a reported fault, never a traceback
            log.exception("run %s failed unexpectedly", state.run_id)
            error = RuntimeFault(f"unexpected {type(exc).__name__}: {exc}", instance="/")
            status = "faulted"
        except asyncio.CancelledError:
            status = "cancelled"
            current = asyncio.current_task()
            if handle is None or not handle.cancel_requested or current is None:
                self._finish(state, status, output=None, error=None, started_at=started_at, compensations=[])
                raise
            current.uncancel()
        compensations: list[CompensationRecord] = []
        if error is not None and state.ledger.entries:
            compensations = await state.ledger.compensate(state.for_compensation(), error)
        return self._finish(
            state, status, output=output, error=error, started_at=started_at, compensations=compensations
        )

    def _finish(
        self,
        state: RunState,
        status: RunStatus,
        *,
        output: Any,
        error: WorkflowError | None,
        started_at: float,
        compensations: list[CompensationRecord],
    ) -> RunResult:
        redactor = state.timeline.redactor
        if error is not None and redactor:
            error = WorkflowError.from_dict(redactor.redact(error.to_dict()))
        result = RunResult(
            run_id=state.run_id,
            status=status,
            output=output,
            error=error,
            timeline=state.timeline,
            started_at=started_at,
            ended_at=state.clock.time(),
            compensations=compensations,
        )
        if state.hooks.run_end:
            notify(state.hooks.run_end, result)
        return result
