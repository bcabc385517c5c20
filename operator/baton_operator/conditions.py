"""kstatus-compatible conditions: set one, keep lastTransitionTime unless its status flips.

Besides ``Ready``, ``Progressing`` and ``Degraded`` (what people and Argo CD read), the
abnormal-true pair ``Reconciling``/``Stalled`` is kept in step so kstatus (Flux, ``kubectl
wait``, cli-utils) computes health without a custom check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["CONDITION_TYPES", "Condition", "merge_conditions"]

Status = Literal["True", "False", "Unknown"]
CONDITION_TYPES = ("Ready", "Progressing", "Degraded", "Reconciling", "Stalled")


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    status: Status
    reason: str
    message: str


def merge_conditions(
    current: Sequence[Mapping[str, Any]] | None,
    wanted: Sequence[Condition],
    *,
    generation: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The condition list after setting ``wanted``; others (not ours) are kept as they are."""
    previous = {str(c.get("type")): c for c in current or ()}
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    merged: list[dict[str, Any]] = []
    for condition in wanted:
        before = previous.pop(condition.type, None)
        transitioned = before is None or before.get("status") != condition.status
        merged.append(
            {
                "type": condition.type,
                "status": condition.status,
                "reason": condition.reason,
                "message": condition.message,
                "observedGeneration": generation,
                "lastTransitionTime": (
                    stamp if before is None or transitioned else before.get("lastTransitionTime", stamp)
                ),
            }
        )
    merged.extend(dict(c) for t, c in previous.items() if t not in CONDITION_TYPES)
    return merged
