"""Errors as RFC 7807 problem details, and the static filters ``catch`` matches them with."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Tag, model_validator

from baton.dsl.models._base import ExpressionOrUri, JsonPointerOrExpression, Model, OpenModel

__all__ = ["Error", "ErrorFilter", "ErrorOrReference"]


class Error(Model):
    type: ExpressionOrUri
    status: int
    #: A JSON pointer to where the error comes from, or an expression producing one.
    instance: JsonPointerOrExpression | None = None
    title: str | None = None
    detail: str | None = None


class ErrorFilter(OpenModel):
    """Matches an error whose fields equal every given value (``catch.errors.with``)."""

    type: str | None = None
    status: int | None = None
    instance: JsonPointerOrExpression | None = None
    title: str | None = None
    details: str | None = None

    @model_validator(mode="after")
    def _filters_on_something(self) -> ErrorFilter:
        if not self.model_fields_set and not self.model_extra:
            raise ValueError("an error filter needs at least one property (type, status, ...)")
        return self


def _error_kind(value: Any) -> str | None:
    if isinstance(value, dict | Error):
        return "<definition>"
    if isinstance(value, str):
        return "<reference>"
    return None


ErrorOrReference = Annotated[
    Annotated[Error, Tag("<definition>")] | Annotated[str, Tag("<reference>")],
    Discriminator(
        _error_kind,
        custom_error_type="error",
        custom_error_message="must be an error ({type: ..., status: ...}) or the name of one in use.errors",
    ),
]
