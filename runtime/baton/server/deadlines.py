"""A run's deadline: the tightest of the client's budget and the workflow's own timeout.

The deadline is absolute (``time.monotonic()`` seconds), so that the engine can give each call
the *remaining* budget as its timeout and pass it downstream in the same header a client uses,
so chained Baton services shrink one budget instead of each starting a fresh one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

__all__ = ["DEADLINE_HEADER", "DeadlineError", "deadline_for"]

#: Remaining milliseconds, as a client sends it and as the engine sends it downstream.
DEADLINE_HEADER = "X-Baton-Deadline-Ms"
_MAX_MS = 24 * 3600 * 1000


class DeadlineError(ValueError):
    """The client's deadline header is not a positive number of milliseconds."""


def deadline_for(
    headers: Mapping[str, str],
    *,
    timeout_seconds: float | None,
    clock: Callable[[], float] = time.monotonic,
) -> float | None:
    """The absolute deadline of a run starting now, or None when nothing bounds it."""
    budgets: list[float] = []
    raw = headers.get(DEADLINE_HEADER)
    if raw is not None:
        try:
            ms = float(raw)
        except ValueError:
            raise DeadlineError(f"{DEADLINE_HEADER} must be a number of milliseconds, got {raw!r}") from None
        if not 0 < ms <= _MAX_MS:
            raise DeadlineError(f"{DEADLINE_HEADER} must be between 1 and {_MAX_MS} milliseconds")
        budgets.append(ms / 1000)
    if timeout_seconds is not None:
        budgets.append(timeout_seconds)
    if not budgets:
        return None
    return clock() + min(budgets)
