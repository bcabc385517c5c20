"""Retry policies: which attempt waits how long, and when to stop.

Kept apart from transport errors: a policy only decides *whether and when* to try again after a
caught ``WorkflowError``; what failed, and how, is the task's business.

Delays: ``constant`` waits ``delay`` every time, ``linear`` waits ``delay * n`` before retry n,
``exponential`` waits ``delay * 2**(n-1)``; ``jitter`` adds a uniform random amount in
``[from, to]``. Limits: ``limit.attempt.count`` is the number of retries after the first
attempt; ``limit.duration`` bounds the whole retrying (no retry starts that would begin after
it); ``limit.attempt.duration`` bounds each attempt (a per-attempt timeout).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from baton.expressions import Expression

__all__ = ["Backoff", "RetryPolicy"]

Backoff = Literal["constant", "linear", "exponential"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    delay: float = 0.0
    backoff: Backoff = "constant"
    jitter: tuple[float, float] | None = None
    max_retries: int | None = None
    max_duration: float | None = None
    attempt_timeout: float | None = None
    when: Expression | None = None
    except_when: Expression | None = None

    def delay_before(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        if self.backoff == "linear":
            seconds = self.delay * retry
        elif self.backoff == "exponential":
            # 2 ** n past 1023 is not a float: an unlimited policy would crash at retry 1025
            # instead of running into the step budget. Capped, the product is finite or inf.
            seconds = self.delay * 2.0 ** min(retry - 1, 1023)
        else:
            seconds = self.delay
        if self.jitter is not None:
            low, high = self.jitter
            seconds += rng.uniform(low, high)
        return seconds

    def allows(self, retry: int, *, elapsed: float, delay: float) -> bool:
        """Whether retry number ``retry`` may start ``delay`` seconds from now."""
        if self.max_retries is not None and retry > self.max_retries:
            return False
        return not (self.max_duration is not None and elapsed + delay > self.max_duration)
