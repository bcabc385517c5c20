"""Guards that keep one run from taking the process down with it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from baton.engine.errors import LimitExceeded

__all__ = ["Limits", "payload_size"]


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
