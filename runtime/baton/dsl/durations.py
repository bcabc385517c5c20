"""Durations in seconds, from ISO 8601 text or inline objects.

Calendar units have no fixed length; Baton counts a year as 365 days and a month as 30
days, which is what a timeout or a retry delay needs (an approximation, never a date).
"""

from __future__ import annotations

import re
from typing import Any

from baton.dsl.models import DurationInline
from baton.dsl.models.durations import ISO_DURATION_PATTERN

__all__ = ["DurationError", "duration_seconds", "iso_duration_seconds"]

_SECONDS = {"Y": 365 * 86_400, "M": 30 * 86_400, "W": 7 * 86_400, "D": 86_400}
_TIME_SECONDS = {"H": 3_600, "M": 60, "S": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([YMWDHS])")


class DurationError(ValueError):
    """Not a duration, or a negative one."""


def iso_duration_seconds(text: str) -> float:
    """Seconds in an ISO 8601 duration such as ``PT1.5S`` or ``P1DT2H``."""
    if ISO_DURATION_PATTERN.search(text) is None:
        raise DurationError(f"{text!r} is not an ISO 8601 duration such as PT30S or P1DT2H")
    date, _, time = text[1:].partition("T")
    total = sum(float(amount) * _SECONDS[unit] for amount, unit in _PART.findall(date))
    total += sum(float(amount) * _TIME_SECONDS[unit] for amount, unit in _PART.findall(time))
    return total


_UNITS = {"days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1, "milliseconds": 0.001}


def duration_seconds(value: Any) -> float:
    """Seconds in a literal duration (text, mapping or ``DurationInline``); not for expressions."""
    if isinstance(value, DurationInline):
        value = value.model_dump(exclude_unset=True)
    if isinstance(value, str):
        return iso_duration_seconds(value.strip())
    if isinstance(value, dict) and value:
        total = 0.0
        for unit, amount in value.items():
            if unit not in _UNITS:
                raise DurationError(
                    f"unknown duration unit {unit!r} (use days, hours, minutes, seconds, milliseconds)"
                )
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise DurationError(f"{unit} must be a whole number")
            if amount < 0:
                raise DurationError(f"{unit} must not be negative")
            total += amount * _UNITS[unit]
        return total
    raise DurationError("a duration is ISO 8601 text such as PT30S or an object such as {seconds: 30}")
