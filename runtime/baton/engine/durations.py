"""Durations as the spec writes them: ISO 8601 strings or ``{days, hours, ...}`` objects."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DurationError", "parse_duration"]

_ISO = re.compile(
    r"^P(?!$)(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_UNITS = {"days": 86_400.0, "hours": 3_600.0, "minutes": 60.0, "seconds": 1.0, "milliseconds": 0.001}
_ISO_UNITS = {**_UNITS, "weeks": 604_800.0}


class DurationError(ValueError):
    pass


def parse_duration(value: Any) -> float:
    """Seconds in ``value``; raises ``DurationError`` saying what is wrong."""
    if isinstance(value, str):
        match = _ISO.match(value.strip().upper())
        if match is None:
            if value.strip().startswith("${"):
                raise DurationError("this duration must be static (an expression is allowed only in `wait`)")
            raise DurationError(f"{value!r} is not an ISO 8601 duration such as 'PT5S' or 'P1DT2H'")
        parts = match.groupdict()
        years, months = parts.pop("years"), parts.pop("months")
        if years or months:
            raise DurationError(f"{value!r}: years and months have no fixed length; use weeks or days")
        return sum(float(amount) * _ISO_UNITS[unit] for unit, amount in parts.items() if amount)
    if isinstance(value, dict):
        unknown = set(value) - set(_UNITS)
        if unknown:
            raise DurationError(f"unknown duration unit(s): {', '.join(sorted(unknown))}")
        total = 0.0
        for unit, amount in value.items():
            if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
                raise DurationError(f"duration {unit} must be a non-negative number, got {amount!r}")
            total += amount * _UNITS[unit]
        return total
    raise DurationError(f"a duration is an ISO 8601 string or an object of units, got {type(value).__name__}")
