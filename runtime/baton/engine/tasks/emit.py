"""``emit``: publish a CloudEvent to the environment's event sink; the event is the output."""

from __future__ import annotations

import uuid
from typing import Any

from baton.engine._state import RunState, Scope, datetime_descriptor
from baton.engine.tasks.base import TaskNode
from baton.expressions import ValueTemplate

__all__ = ["EmitNode"]


class EmitNode(TaskNode):
    kind = "emit"
    __slots__ = ("event",)

    def __init__(self, *, event: ValueTemplate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.event = event

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        rendered = self.event.render(input, scope)
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "time": datetime_descriptor(state.clock.time())["iso8601"],
        }
        event.update(rendered)
        if "data" in event and "datacontenttype" not in event:
            event["datacontenttype"] = "application/json"
        state.limits.check_payload(event, what="emitted event", instance=self.path)
        await state.env.events.publish(event)
        return event
