"""What every task carries, whatever its kind: condition, data flow, timeout, next step."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from baton.dsl.models._base import Model
from baton.dsl.models.data import Export, Input, Output
from baton.dsl.models.durations import TimeoutOrReference

__all__ = ["FLOW_DIRECTIVES", "TaskBase"]

#: ``then`` values that are not task names.
FLOW_DIRECTIVES = frozenset({"continue", "exit", "end"})


class TaskBase(Model):
    if_: str | None = Field(default=None, alias="if")
    input: Input | None = None
    output: Output | None = None
    export: Export | None = None
    timeout: TimeoutOrReference | None = None
    #: ``continue`` (the default), ``exit``, ``end``, or the name of a task in the same list.
    then: str | None = None
    metadata: dict[str, Any] | None = None
