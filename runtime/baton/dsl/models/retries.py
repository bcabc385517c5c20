"""Retry policies: when to retry, the delay and its backoff, jitter and limits."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from baton.dsl.models._base import Model
from baton.dsl.models.durations import Duration

__all__ = ["Backoff", "Jitter", "RetryAttemptLimit", "RetryLimit", "RetryPolicy", "RetryPolicyOrReference"]


class Backoff(Model):
    """Exactly one strategy; the spec gives them no parameters yet, so each is an open mapping."""

    constant: dict[str, Any] | None = None
    exponential: dict[str, Any] | None = None
    linear: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Backoff:
        if len(self.model_fields_set) != 1:
            raise ValueError("a backoff needs exactly one of: constant, exponential, linear")
        return self

    @property
    def kind(self) -> str:
        return next(iter(self.model_fields_set))


class RetryAttemptLimit(Model):
    count: int | None = None
    duration: Duration | None = None


class RetryLimit(Model):
    attempt: RetryAttemptLimit | None = None
    duration: Duration | None = None


class Jitter(Model):
    from_: Duration = Field(alias="from")
    to: Duration


class RetryPolicy(Model):
    when: str | None = None
    except_when: str | None = Field(default=None, alias="exceptWhen")
    delay: Duration | None = None
    backoff: Backoff | None = None
    limit: RetryLimit | None = None
    jitter: Jitter | None = None


def _retry_kind(value: Any) -> str | None:
    if isinstance(value, dict | RetryPolicy):
        return "<definition>"
    if isinstance(value, str):
        return "<reference>"
    return None


RetryPolicyOrReference = Annotated[
    Annotated[RetryPolicy, Tag("<definition>")] | Annotated[str, Tag("<reference>")],
    Discriminator(
        _retry_kind,
        custom_error_type="retry",
        custom_error_message="must be a retry policy or the name of one in use.retries",
    ),
]
