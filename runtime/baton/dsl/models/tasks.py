"""Task kinds, the task union, and ordered task lists of named tasks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    WrapSerializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from baton.dsl.models import calls
from baton.dsl.models._base import Model, OpenModel
from baton.dsl.models.calls import (
    CallA2A,
    CallAsyncApi,
    CallFunction,
    CallGrpc,
    CallHttp,
    CallMcp,
    CallOpenApi,
)
from baton.dsl.models.data import Export, Output
from baton.dsl.models.durations import Duration
from baton.dsl.models.endpoints import ExternalResource
from baton.dsl.models.errors import ErrorFilter, ErrorOrReference
from baton.dsl.models.events import EmitEventProperties, EventConsumptionStrategy
from baton.dsl.models.retries import RetryPolicyOrReference
from baton.dsl.models.task_base import TaskBase

__all__ = [
    "TASK_KINDS",
    "Catch",
    "CatchErrors",
    "Container",
    "ContainerLifetime",
    "DoTask",
    "EmitConfiguration",
    "EmitEvent",
    "EmitTask",
    "ForConfiguration",
    "ForTask",
    "ForkConfiguration",
    "ForkTask",
    "ListenConfiguration",
    "ListenTask",
    "RaiseConfiguration",
    "RaiseTask",
    "RunContainer",
    "RunScript",
    "RunShell",
    "RunTask",
    "RunWorkflow",
    "Script",
    "SetTask",
    "Shell",
    "SubflowConfiguration",
    "SubscriptionIterator",
    "SwitchCase",
    "SwitchItem",
    "SwitchTask",
    "Task",
    "TaskItem",
    "TaskList",
    "TryTask",
    "WaitTask",
    "entries",
    "task_kind",
]

#: The key that names each task kind, in the order used to tell them apart.
TASK_KINDS = ("call", "emit", "for", "fork", "listen", "raise", "run", "set", "switch", "try", "wait", "do")


def _single_entry(value: Any, what: str) -> tuple[Any, Any]:
    if isinstance(value, dict) and len(value) > 1:
        keys = ", ".join(str(key) for key in list(value)[:4]) + (", ..." if len(value) > 4 else "")
        raise PydanticCustomError(
            "named_item",
            "must have exactly one key, the {what}'s name, but has {count} ({keys}); "
            "is the {what} indented under its name?",
            {"what": what, "count": len(value), "keys": keys},
        )
    if not isinstance(value, dict) or len(value) != 1:
        raise PydanticCustomError(
            "named_item", "must be a mapping with exactly one key: the {what}'s name", {"what": what}
        )
    ((name, body),) = value.items()
    return name, body


class TaskItem(Model):
    """One ``- name: task`` entry of a task list; the list keeps the author's order."""

    name: str
    task: Task

    @model_validator(mode="before")
    @classmethod
    def _from_entry(cls, value: Any) -> Any:
        name, body = _single_entry(value, "task")
        return {"name": name, "task": body}

    @classmethod
    def of(cls, name: str, task: Task) -> TaskItem:
        """Build an entry from already-validated parts (validation expects the DSL's form)."""
        return cls.model_construct(name=name, task=task)


def entries(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
    """Serialize a list of named items back to the DSL's ``- name: body`` form."""
    return [
        {item.pop("name"): next(iter(item.values()))} if isinstance(item, dict) else item
        for item in handler(value)
    ]


#: The DSL's ``- name: task`` list, in the author's order.
TaskList = Annotated[list[TaskItem], WrapSerializer(entries)]


class DoTask(TaskBase):
    do: TaskList


class ForkConfiguration(Model):
    branches: TaskList
    #: Whether the branches race: the first to finish sets the output, the others are cancelled.
    compete: bool = False


class ForkTask(TaskBase):
    fork: ForkConfiguration


class EmitEvent(OpenModel):
    with_: EmitEventProperties | None = Field(default=None, alias="with")


class EmitConfiguration(Model):
    event: EmitEvent


class EmitTask(TaskBase):
    emit: EmitConfiguration


class ForConfiguration(Model):
    each: str = "item"
    in_: str = Field(alias="in")
    at: str = "index"


class ForTask(TaskBase):
    for_: ForConfiguration = Field(alias="for")
    while_: str | None = Field(default=None, alias="while")
    do: TaskList


class SubscriptionIterator(Model):
    item: str = "item"
    at: str = "index"
    do: TaskList | None = None
    output: Output | None = None
    export: Export | None = None


class ListenConfiguration(Model):
    to: EventConsumptionStrategy
    read: Literal["data", "envelope", "raw"] = "data"


class ListenTask(TaskBase):
    listen: ListenConfiguration
    foreach: SubscriptionIterator | None = None


class RaiseConfiguration(Model):
    error: ErrorOrReference


class RaiseTask(TaskBase):
    raise_: RaiseConfiguration = Field(alias="raise")


class ContainerLifetime(Model):
    cleanup: Literal["always", "never", "eventually"]
    after: Duration | None = None

    @model_validator(mode="after")
    def _after_only_when_eventually(self) -> ContainerLifetime:
        if (self.cleanup == "eventually") != ("after" in self.model_fields_set):
            raise ValueError("'after' is required when cleanup is 'eventually', and allowed only then")
        return self


class Container(Model):
    image: str
    name: str | None = None
    command: str | None = None
    ports: dict[str, Any] | None = None
    volumes: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    stdin: str | None = None
    arguments: list[str] | None = None
    lifetime: ContainerLifetime | None = None
    pull_policy: Literal["ifNotPresent", "always", "never"] | None = Field(default=None, alias="pullPolicy")


class Script(Model):
    language: str
    code: str | None = None
    source: ExternalResource | None = None
    stdin: str | None = None
    arguments: list[str] | None = None
    environment: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _inline_or_external(self) -> Script:
        if len(self.model_fields_set & {"code", "source"}) != 1:
            raise ValueError("a script needs exactly one of: code, source")
        return self


class Shell(Model):
    command: str
    stdin: str | None = None
    arguments: list[str] | None = None
    environment: dict[str, Any] | None = None


class SubflowConfiguration(Model):
    namespace: str
    name: str
    version: str
    input: dict[str, Any] | None = None


class _RunProcess(Model):
    await_: bool = Field(default=True, alias="await")
    return_: Literal["stdout", "stderr", "code", "all", "none"] = Field(default="stdout", alias="return")


class RunContainer(_RunProcess):
    container: Container


class RunScript(_RunProcess):
    script: Script


class RunShell(_RunProcess):
    shell: Shell


class RunWorkflow(_RunProcess):
    workflow: SubflowConfiguration


_PROCESSES: dict[str, type[BaseModel]] = {
    "<container>": RunContainer,
    "<script>": RunScript,
    "<shell>": RunShell,
    "<workflow>": RunWorkflow,
}


def _process_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [key for key in ("container", "script", "shell", "workflow") if key in value]
        if len(found) > 1:
            raise PydanticCustomError(
                "process_kind",
                "runs exactly one process; found both '{first}' and '{second}'",
                {"first": found[0], "second": found[1]},
            )
        return f"<{found[0]}>" if found else None
    return next((tag for tag, model in _PROCESSES.items() if isinstance(value, model)), None)


RunConfiguration = Annotated[
    Annotated[RunContainer, Tag("<container>")]
    | Annotated[RunScript, Tag("<script>")]
    | Annotated[RunShell, Tag("<shell>")]
    | Annotated[RunWorkflow, Tag("<workflow>")],
    Discriminator(
        _process_kind,
        custom_error_type="process_kind",
        custom_error_message="must be a mapping with one of: container, script, shell, workflow",
    ),
]


class RunTask(TaskBase):
    run: RunConfiguration


def _set_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "<expression>"
    if isinstance(value, dict):
        return "<object>"
    return None


def _non_empty(value: dict[str, Any]) -> dict[str, Any]:
    if not value:
        raise PydanticCustomError("empty_set", "must set at least one property")
    return value


class SetTask(TaskBase):
    set: Annotated[
        Annotated[dict[str, Any], BeforeValidator(_non_empty), Tag("<object>")]
        | Annotated[str, Tag("<expression>")],
        Discriminator(
            _set_kind,
            custom_error_type="set",
            custom_error_message="must be a mapping of the data to set, or a runtime expression",
        ),
    ]


class SwitchCase(Model):
    when: str | None = None
    then: str


class SwitchItem(Model):
    """One ``- name: {when, then}`` case of a switch."""

    name: str
    case: SwitchCase

    @model_validator(mode="before")
    @classmethod
    def _from_entry(cls, value: Any) -> Any:
        name, body = _single_entry(value, "case")
        return {"name": name, "case": body}


class SwitchTask(TaskBase):
    switch: Annotated[list[SwitchItem], WrapSerializer(entries)] = Field(min_length=1)


class CatchErrors(OpenModel):
    with_: ErrorFilter | None = Field(default=None, alias="with")


class Catch(Model):
    errors: CatchErrors | None = None
    #: The variable the caught error is bound to, ``error`` by default.
    as_: str | None = Field(default=None, alias="as")
    when: str | None = None
    except_when: str | None = Field(default=None, alias="exceptWhen")
    retry: RetryPolicyOrReference | None = None
    do: TaskList | None = None


class TryTask(TaskBase):
    try_: TaskList = Field(alias="try")
    catch: Catch


class WaitTask(TaskBase):
    wait: Duration


_TASKS: dict[str, type[BaseModel]] = {
    "<call http>": CallHttp,
    "<call grpc>": CallGrpc,
    "<call openapi>": CallOpenApi,
    "<call asyncapi>": CallAsyncApi,
    "<call a2a>": CallA2A,
    "<call mcp>": CallMcp,
    "<call function>": CallFunction,
    "<emit>": EmitTask,
    "<for>": ForTask,
    "<fork>": ForkTask,
    "<listen>": ListenTask,
    "<raise>": RaiseTask,
    "<run>": RunTask,
    "<set>": SetTask,
    "<switch>": SwitchTask,
    "<try>": TryTask,
    "<wait>": WaitTask,
    "<do>": DoTask,
}


def task_kind(value: Any) -> str | None:
    """The kind of a task, raw or typed: ``call``, ``do``, ... (``None`` when it has none)."""
    if isinstance(value, dict):
        for key in TASK_KINDS:
            if key in value:
                return key
        return None
    for tag, model in _TASKS.items():
        if isinstance(value, model):
            return tag[1:-1].split(" ", 1)[0]
    return None


def _task_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        kind = task_kind(value)
        if kind == "call":
            target = value["call"]
            return f"<call {target}>" if target in calls.CALL_PROTOCOLS else "<call function>"
        return None if kind is None else f"<{kind}>"
    return next((tag for tag, model in _TASKS.items() if isinstance(value, model)), None)


def _one_kind(value: Any) -> Any:
    if not isinstance(value, dict):
        if isinstance(value, BaseModel):
            return value
        raise PydanticCustomError("task", "a task must be a mapping")
    kinds = [key for key in TASK_KINDS if key in value]
    if "for" in kinds:
        # A ``for`` loops over a ``do`` of its own.
        kinds.remove("do") if "do" in kinds else None
    if not kinds:
        raise PydanticCustomError("task", "a task needs one of: " + ", ".join(sorted(TASK_KINDS)))
    if len(kinds) > 1:
        raise PydanticCustomError(
            "task",
            "a task has exactly one kind; found both '{first}' and '{second}'",
            {"first": kinds[0], "second": kinds[1]},
        )
    return value


Task = Annotated[
    Annotated[CallHttp, Tag("<call http>")]
    | Annotated[CallGrpc, Tag("<call grpc>")]
    | Annotated[CallOpenApi, Tag("<call openapi>")]
    | Annotated[CallAsyncApi, Tag("<call asyncapi>")]
    | Annotated[CallA2A, Tag("<call a2a>")]
    | Annotated[CallMcp, Tag("<call mcp>")]
    | Annotated[CallFunction, Tag("<call function>")]
    | Annotated[EmitTask, Tag("<emit>")]
    | Annotated[ForTask, Tag("<for>")]
    | Annotated[ForkTask, Tag("<fork>")]
    | Annotated[ListenTask, Tag("<listen>")]
    | Annotated[RaiseTask, Tag("<raise>")]
    | Annotated[RunTask, Tag("<run>")]
    | Annotated[SetTask, Tag("<set>")]
    | Annotated[SwitchTask, Tag("<switch>")]
    | Annotated[TryTask, Tag("<try>")]
    | Annotated[WaitTask, Tag("<wait>")]
    | Annotated[DoTask, Tag("<do>")],
    Discriminator(_task_tag),
    BeforeValidator(_one_kind),
]
