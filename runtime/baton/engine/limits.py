"""Guards that keep one run from taking the process down with it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from baton.engine.errors import LimitExceeded

__all__ = ["Limits", "payload_bound", "payload_size"]

#: Past this many values, bounding a payload in Python costs more than measuring it exactly.
_BOUND_NODES = 64
_BIG_INT = 2**63


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Per-run guards; each one, when crossed, faults the run with a ``LimitExceeded`` naming it.

    ``max_steps`` counts task executions (a ``then`` loop or a ``for`` over a huge list cannot
    spin forever); ``max_payload_bytes`` bounds the run input, every HTTP request and response
    body, emitted events and the run output; ``max_fork_width`` bounds the branches of one
    ``fork``; ``max_depth`` bounds nesting of ``run: workflow``.
    """

    max_steps: int = 10_000
    max_payload_bytes: int = 10 * 1024 * 1024
    max_fork_width: int = 64
    max_depth: int = 16

    def check_payload(self, value: Any, *, what: str, instance: str | None = None) -> None:
        # Most payloads (a run's input and output, a small event) are a few values: bounding
        # their size costs ~1 us, serialising them ~5-10 us per check. Only a payload whose
        # bound could be over the limit is measured exactly (and named with its exact size).
        bound = payload_bound(value)
        if bound is not None and bound <= self.max_payload_bytes:
            return
        try:
            size = payload_size(value)
        except RecursionError:
            # Data nested past the interpreter's stack cannot be serialised, sent or evaluated.
            raise LimitExceeded(
                f"{what} is nested too deeply to handle", title="Payload too deep", instance=instance
            ) from None
        if size > self.max_payload_bytes:
            raise LimitExceeded(
                f"{what} is {size} bytes, over the limit of {self.max_payload_bytes} bytes "
                "(Limits.max_payload_bytes)",
                title="Payload too large",
                status=413,
                instance=instance,
            )


def payload_size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, str):
        # JSON parsers let lone surrogates (``"\\ud800"``) through; they must be measured, not crash.
        return len(value.encode("utf-8", "surrogatepass"))
    if value is None or isinstance(value, bool | int | float):
        return 8
    return len(json.dumps(value, separators=(",", ":"), default=str))


def payload_bound(value: Any) -> int | None:
    """An upper bound of ``payload_size(value)`` for a small JSON value, or ``None`` when the
    value is large, deep or of a type only serialising it can measure.

    A string's bound assumes every character is escaped as a surrogate pair (``\\ud83d\\ude00``,
    12 bytes), the most ``json.dumps`` writes for one character; a float's is the longest
    ``repr`` (24); an int's, 20 digits and a sign below 2**64.
    """
    # Exact types, tested with `is`: a subclass (or anything unusual) is measured exactly.
    total = 0
    stack = [value]
    budget = _BOUND_NODES
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            budget -= len(item)
            if budget < 0:
                return None
            total += 2
            for key, member in item.items():
                if type(key) is not str:
                    return None
                total += 12 * len(key) + 4  # quotes, colon, comma
                size = _scalar_bound(member)
                if size is None:
                    stack.append(member)
                elif size < 0:
                    return None
                else:
                    total += size
        elif kind is list:
            budget -= len(item)
            if budget < 0:
                return None
            total += 2 + len(item)  # brackets, commas
            for member in item:
                size = _scalar_bound(member)
                if size is None:
                    stack.append(member)
                elif size < 0:
                    return None
                else:
                    total += size
        else:
            size = _scalar_bound(item)
            if size is None or size < 0:
                return None
            total += size
    return total


def _scalar_bound(item: Any) -> int | None:
    """A scalar's bound; ``None`` for a container (to walk), ``-1`` for what cannot be bounded."""
    kind = type(item)
    if kind is str:
        return 12 * len(item) + 2
    if kind is int:
        return 21 if -_BIG_INT < item < _BIG_INT else -1
    if item is None or kind is bool:
        return 8  # as payload_size counts a lone scalar
    if kind is float:
        return 24
    if kind is dict or kind is list:
        return None
    return -1
