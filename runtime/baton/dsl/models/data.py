"""Data flow: input, output and export transformations, and the schemas that check them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from baton.dsl.models._base import Model
from baton.dsl.models.endpoints import ExternalResource

__all__ = ["Export", "Input", "Output", "Schema", "Transformation"]


class Schema(Model):
    """A schema written inline (``document``) or fetched (``resource``); JSON Schema by default."""

    format: str = "json"
    document: Any = None
    resource: ExternalResource | None = None

    @model_validator(mode="after")
    def _inline_or_external(self) -> Schema:
        if ("document" in self.model_fields_set) == ("resource" in self.model_fields_set):
            raise ValueError("a schema needs exactly one of: document, resource")
        return self


def _transformation_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "<expression>"
    if isinstance(value, dict):
        return "<object>"
    return None


#: A runtime expression (``${ }`` optional) or an object whose string leaves may be expressions.
Transformation = Annotated[
    Annotated[str, Tag("<expression>")] | Annotated[dict[str, Any], Tag("<object>")],
    Discriminator(
        _transformation_kind,
        custom_error_type="transformation",
        custom_error_message="must be a runtime expression (string) or a mapping",
    ),
]


class Input(Model):
    schema_: Schema | None = Field(default=None, alias="schema")
    from_: Transformation | None = Field(default=None, alias="from")


class Output(Model):
    schema_: Schema | None = Field(default=None, alias="schema")
    as_: Transformation | None = Field(default=None, alias="as")


class Export(Model):
    schema_: Schema | None = Field(default=None, alias="schema")
    as_: Transformation | None = Field(default=None, alias="as")
