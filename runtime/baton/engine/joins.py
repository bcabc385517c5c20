"""Fork join policies (a Baton extension carried in the fork task's ``metadata``).

``all`` (the default) waits for every branch; ``any`` takes the first branch to succeed and
cancels the rest (what ``fork.compete: true`` means in the spec); ``quorum`` takes the first N
successes and cancels the rest. Outputs are always ordered by branch declaration, never by
completion, so the same inputs give the same output every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["JOIN_KEY", "QUORUM_KEY", "JoinPolicy", "JoinPolicyError", "join_policy"]

JOIN_KEY = "baton.join"
QUORUM_KEY = "baton.quorum"

JoinKind = Literal["all", "any", "quorum"]


class JoinPolicyError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class JoinPolicy:
    kind: JoinKind
    needed: int
    """How many successful branches complete the join."""

    def describe(self) -> str:
        return f"quorum {self.needed}" if self.kind == "quorum" else self.kind


def join_policy(metadata: Any, *, compete: bool, branches: int) -> JoinPolicy:
    """The join of a fork from its ``compete`` flag and ``metadata``; raises ``JoinPolicyError``."""
    metadata = metadata if isinstance(metadata, dict) else {}
    kind = metadata.get(JOIN_KEY)
    if kind is None:
        kind = "any" if compete else "all"
    if kind not in ("all", "any", "quorum"):
        raise JoinPolicyError(f"{JOIN_KEY} must be one of all, any, quorum; got {kind!r}")
    if compete and kind != "any":
        raise JoinPolicyError(f"fork.compete: true is the `any` join; it contradicts {JOIN_KEY}: {kind}")
    if kind == "all":
        return JoinPolicy("all", branches)
    if kind == "any":
        return JoinPolicy("any", 1)
    needed = metadata.get(QUORUM_KEY)
    if isinstance(needed, bool) or not isinstance(needed, int) or not 1 <= needed <= branches:
        raise JoinPolicyError(
            f"{QUORUM_KEY} must be an integer from 1 to the number of branches ({branches}); got {needed!r}"
        )
    return JoinPolicy("quorum", needed)
