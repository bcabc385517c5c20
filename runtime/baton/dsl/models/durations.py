"""Durations (ISO 8601 text, inline objects or runtime expressions) and timeouts."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Discriminator, Tag, model_validator

from baton.dsl.models._base import Model, checked, is_runtime_expression

__all__ = ["ISO_DURATION_PATTERN", "Duration", "DurationInline", "Timeout", "TimeoutOrReference"]

#: The schema's ``DurationLiteral``. Fractions are allowed on every unit, as in ISO 8601.
ISO_DURATION_PATTERN = re.compile(
    r"^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$"
)
_UNITS = ("days", "hours", "minutes", "seconds", "milliseconds")


class DurationInline(Model):
    days: int | None = None
    hours: int | None = None
    minutes: int | None = None
    seconds: int | None = None
    milliseconds: int | None = None

    @model_validator(mode="after")
    def _has_a_unit(self) -> DurationInline:
        if not self.model_fields_set:
            raise ValueError("a duration object needs at least one of: " + ", ".join(_UNITS))
        return self

    def total_seconds(self) -> float:
        return (
            (self.days or 0) * 86_400
            + (self.hours or 0) * 3_600
            + (self.minutes or 0) * 60
            + (self.seconds or 0)
            + (self.milliseconds or 0) / 1_000
        )


_DURATION_MESSAGE = (
    "must be an ISO 8601 duration such as PT30S or P1DT2H, a runtime expression, "
    "or an object such as {seconds: 30}"
)


def _is_duration_text(value: str) -> bool:
    return ISO_DURATION_PATTERN.search(value) is not None or is_runtime_expression(value)


def _duration_kind(value: Any) -> str | None:
    if isinstance(value, dict | DurationInline):
        return "<inline>"
    if isinstance(value, str):
        return "<text>"
    return None


Duration = Annotated[
    Annotated[DurationInline, Tag("<inline>")]
    | Annotated[str, checked(_is_duration_text, "duration", _DURATION_MESSAGE), Tag("<text>")],
    Discriminator(
        _duration_kind,
        custom_error_type="duration",
        custom_error_message=_DURATION_MESSAGE,
    ),
]


class Timeout(Model):
    after: Duration


def _timeout_kind(value: Any) -> str | None:
    if isinstance(value, dict | Timeout):
        return "<definition>"
    if isinstance(value, str):
        return "<reference>"
    return None


TimeoutOrReference = Annotated[
    Annotated[Timeout, Tag("<definition>")] | Annotated[str, Tag("<reference>")],
    Discriminator(
        _timeout_kind,
        custom_error_type="timeout",
        custom_error_message="must be a timeout ({after: PT30S}) or the name of one in use.timeouts",
    ),
]
