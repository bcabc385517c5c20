"""``listen``: wait for events from the environment's event source, by the spec's strategies.

``one`` consumes the first matching event; ``all`` waits until every filter has matched once;
``any`` takes the first event matching any filter (an empty list matches every event), or keeps
listening ``until`` an expression holds on the events consumed so far, or until the events of
an ``until`` strategy arrive (those are not part of the output). The output is the array of
consumed events in the order they arrived, read as their ``data`` (default), whole
``envelope``, or ``raw`` data. A ``timeout`` on the task bounds the wait.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from baton.engine._state import RunState, Scope
from baton.engine.errors import ConfigurationError
from baton.engine.events import EventSource
from baton.engine.tasks.base import TaskNode, truthy
from baton.expressions import Expression

__all__ = ["EventFilter", "ListenNode", "Strategy"]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """``with``: each attribute must match: an expression holds on it, a pattern matches it
    wholly, or (for non-strings) it is equal."""

    expressions: tuple[tuple[str, Expression], ...]
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    values: tuple[tuple[str, Any], ...]

    def matches(self, event: Mapping[str, Any], scope: Scope) -> bool:
        for name, pattern in self.patterns:
            value = event.get(name)
            if not isinstance(value, str) or pattern.fullmatch(value) is None:
                return False
        for name, expected in self.values:
            if event.get(name) != expected:
                return False
        return all(
            truthy(expression.evaluate(event.get(name), scope)) for name, expression in self.expressions
        )


@dataclass(frozen=True, slots=True)
class Strategy:
    kind: Literal["one", "any", "all"]
    filters: tuple[EventFilter, ...]
    until_expression: Expression | None = None
    until_strategy: Strategy | None = None


class _Progress:
    """How far a strategy is: which of its filters have matched."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.matched: set[int] = set()

    def offer(self, event: Mapping[str, Any], scope: Scope) -> tuple[bool, bool]:
        """(consumed, complete) for one incoming event."""
        strategy = self.strategy
        if strategy.kind == "any" and not strategy.filters:
            return True, True
        for index, event_filter in enumerate(strategy.filters):
            if strategy.kind == "all" and index in self.matched:
                continue
            if event_filter.matches(event, scope):
                self.matched.add(index)
                complete = strategy.kind != "all" or len(self.matched) == len(strategy.filters)
                return True, complete
        return False, False


class ListenNode(TaskNode):
    kind = "listen"
    compensable = False
    __slots__ = ("read", "strategy")

    def __init__(self, *, strategy: Strategy, read: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.strategy = strategy
        self.read = read

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        source = state.env.events
        if not isinstance(source, EventSource):
            raise ConfigurationError("this environment's event sink cannot be listened to (no subscribe())")
        subscription = source.subscribe()
        consumed: list[Mapping[str, Any]] = []
        strategy = self.strategy
        progress = _Progress(strategy)
        stopper = None if strategy.until_strategy is None else _Progress(strategy.until_strategy)
        try:
            while True:
                event = await subscription.next()
                if stopper is not None:
                    taken, done = stopper.offer(event, scope)
                    if taken:
                        if done:
                            break
                        continue
                taken, complete = progress.offer(event, scope)
                if not taken:
                    continue
                consumed.append(event)
                if strategy.kind != "any" or (strategy.until_expression is None and stopper is None):
                    if complete:
                        break
                    continue
                if strategy.until_expression is not None and truthy(
                    strategy.until_expression.evaluate([self._read(e) for e in consumed], scope)
                ):
                    break
        finally:
            subscription.close()
        if scope.record is not None:
            scope.record.decision = {"events": len(consumed)}
        return [self._read(event) for event in consumed]

    def _read(self, event: Mapping[str, Any]) -> Any:
        if self.read == "envelope":
            return dict(event)
        return event.get("data")
