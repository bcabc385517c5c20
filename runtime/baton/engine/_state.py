"""Per-run state and the variables runtime expressions see.

One ``RunState`` per run (a sub-workflow gets its own, sharing the parent's timeline, step
budget and ledger). ``Scope`` is the mapping handed to expressions: it answers ``$input``,
``$context``, ``$task``... from the state and the running task, building the costly ones
(``$task``, ``$workflow``) only when an expression actually asks for them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from baton.engine.errors import LimitExceeded
from baton.engine.observers import Hooks

if TYPE_CHECKING:
    from baton.engine.compensation import Ledger
    from baton.engine.environment import RunEnvironment
    from baton.engine.limits import Limits
    from baton.engine.tasks.base import TaskNode
    from baton.engine.timeline import TaskRecord, Timeline

__all__ = ["RunState", "Scope", "datetime_descriptor"]


def datetime_descriptor(epoch_seconds: float) -> dict[str, Any]:
    moment = datetime.datetime.fromtimestamp(epoch_seconds, tz=datetime.UTC)
    return {
        "iso8601": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epoch": {"seconds": int(epoch_seconds), "milliseconds": int(epoch_seconds * 1000)},
    }


class _Counter:
    __slots__ = ("limit", "value")

    def __init__(self, limit: int) -> None:
        self.value = 0
        self.limit = limit


class RunState:
    __slots__ = (
        "call_headers",
        "clock",
        "context",
        "deadline",
        "definition",
        "depth",
        "env",
        "hooks",
        "ledger",
        "limits",
        "prefix",
        "raw_input",
        "root_parent",
        "run_id",
        "runtime",
        "secrets",
        "started_at",
        "steps",
        "timeline",
        "workflow_name",
    )

    def __init__(
        self,
        *,
        run_id: str,
        env: RunEnvironment,
        limits: Limits,
        timeline: Timeline,
        secrets: Mapping[str, Any],
        definition: Mapping[str, Any],
        raw_input: Any,
        hooks: Hooks,
        call_headers: Mapping[str, str],
        deadline: float | None,
        ledger: Ledger,
        steps: _Counter | None = None,
        depth: int = 0,
        workflow_name: str = "",
        prefix: str = "",
        root_parent: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.env = env
        self.clock = env.clock
        self.limits = limits
        self.timeline = timeline
        self.secrets = secrets
        self.definition = definition
        self.raw_input = raw_input
        self.hooks = hooks
        self.call_headers = call_headers
        self.deadline = deadline
        self.ledger = ledger
        self.steps = steps or _Counter(limits.max_steps)
        self.depth = depth
        self.context: Any = {}
        self.started_at = env.clock.time()
        self.runtime = env.runtime_descriptor
        self.workflow_name = workflow_name
        # Sub-workflow records are placed under the task that ran them: paths get this prefix,
        # and the sub-workflow's top-level tasks get that task as their parent.
        self.prefix = prefix
        self.root_parent = root_parent

    def step(self, path: str) -> None:
        steps = self.steps
        steps.value += 1
        if steps.value > steps.limit:
            raise LimitExceeded(
                f"the run executed more than {steps.limit} tasks (Limits.max_steps); "
                "a `then` loop or an unbounded `for` may be spinning",
                title="Step budget exhausted",
                instance=path,
            )

    def remaining(self) -> float | None:
        """Seconds left before the run's deadline, if it has one."""
        if self.deadline is None:
            return None
        return self.deadline - self.clock.monotonic()

    def workflow_descriptor(self) -> dict[str, Any]:
        return {
            "id": self.run_id,
            "definition": self.definition,
            "input": self.raw_input,
            "startedAt": datetime_descriptor(self.started_at),
        }

    def _sharing(self, **own: Any) -> RunState:
        """Another state of this run: the same id, environment, timeline, secrets, observers,
        call headers and ledger, whatever else ``own`` sets."""
        return RunState(
            run_id=self.run_id,
            env=self.env,
            limits=self.limits,
            timeline=self.timeline,
            secrets=self.secrets,
            hooks=self.hooks,
            call_headers=self.call_headers,
            ledger=self.ledger,
            **own,
        )

    def for_compensation(self) -> RunState:
        """State for the saga after a fault: a fresh step budget and no deadline, because the
        fault may have been either of them, and compensations must still run."""
        fresh = self._sharing(
            definition=self.definition,
            raw_input=self.raw_input,
            deadline=None,
            depth=self.depth,
            workflow_name=self.workflow_name,
        )
        fresh.context = self.context
        return fresh

    def child(
        self,
        *,
        definition: Mapping[str, Any],
        raw_input: Any,
        name: str,
        prefix: str = "",
        root_parent: str | None = None,
    ) -> RunState:
        """State for a sub-workflow: its own context and descriptors, the parent's budgets."""
        return self._sharing(
            definition=definition,
            raw_input=raw_input,
            deadline=self.deadline,
            steps=self.steps,
            depth=self.depth + 1,
            workflow_name=name,
            prefix=prefix,
            root_parent=root_parent,
        )


_NAMES = ("context", "input", "output", "secrets", "task", "workflow", "runtime", "authorization")


class Scope(Mapping[str, Any]):
    """The runtime-expression arguments of one task execution, plus ``for``/``catch`` variables."""

    __slots__ = (
        "authorization",
        "directive",
        "input",
        "locals",
        "node",
        "output",
        "raw_input",
        "record",
        "state",
    )

    def __init__(
        self,
        state: RunState,
        locals: Mapping[str, Any],
        *,
        node: TaskNode | None = None,
        raw_input: Any = None,
        input: Any = None,
    ) -> None:
        self.state = state
        self.locals = locals
        self.node = node
        self.raw_input = raw_input
        self.input = input
        self.output: Any = None
        self.authorization: Any = None
        self.directive: int | None = None
        self.record: TaskRecord | None = None

    def get(self, name: str, default: Any = None) -> Any:
        local = self.locals.get(name, self)
        if local is not self:
            return local
        if name == "input":
            return self.input
        if name == "context":
            return self.state.context
        if name == "output":
            return self.output
        if name == "secrets":
            return self.state.secrets
        if name == "task":
            return self._task()
        if name == "workflow":
            return self.state.workflow_descriptor()
        if name == "runtime":
            return self.state.runtime
        if name == "authorization":
            return self.authorization
        return default

    def _task(self) -> Any:
        node = self.node
        if node is None:
            return None
        return {
            "name": node.name,
            "reference": node.path,
            "definition": node.definition,
            "input": self.raw_input,
            "output": self.output,
            "startedAt": datetime_descriptor(
                self.record.started_at if self.record is not None else self.state.clock.time()
            ),
        }

    def __getitem__(self, name: str) -> Any:
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        yield from _NAMES
        yield from (k for k in self.locals if k not in _NAMES)

    def __len__(self) -> int:
        return len(set(_NAMES) | set(self.locals))


_MISSING: Any = object()
