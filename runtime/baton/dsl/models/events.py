"""CloudEvents properties, event filters and the strategies for consuming events."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from baton.dsl.models._base import DateTimeOrExpression, ExpressionOrUri, Model, OpenModel, kind_of

__all__ = [
    "AllEventConsumptionStrategy",
    "AnyEventConsumptionStrategy",
    "Correlation",
    "EmitEventProperties",
    "EventConsumptionStrategy",
    "EventFilter",
    "EventProperties",
    "OneEventConsumptionStrategy",
]


class EventProperties(OpenModel):
    """CloudEvents context attributes; extension attributes are kept as extra keys."""

    id: str | None = None
    source: ExpressionOrUri | None = None
    type: str | None = None
    time: DateTimeOrExpression | None = None
    subject: str | None = None
    datacontenttype: str | None = None
    dataschema: ExpressionOrUri | None = None
    data: Any = None


class EmitEventProperties(EventProperties):
    source: ExpressionOrUri
    type: str


class Correlation(OpenModel):
    from_: str = Field(alias="from")
    expect: str | None = None


class EventFilter(Model):
    with_: EventProperties = Field(alias="with")
    correlate: dict[str, Correlation] | None = None

    @model_validator(mode="after")
    def _filters_on_something(self) -> EventFilter:
        if not self.with_.model_fields_set and not self.with_.model_extra:
            raise ValueError("an event filter's 'with' needs at least one property")
        return self


class AllEventConsumptionStrategy(Model):
    all: list[EventFilter]


class OneEventConsumptionStrategy(Model):
    one: EventFilter


def _until_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "<condition>"
    if isinstance(value, dict | BaseModel):
        return "<events>"
    return None


class AnyEventConsumptionStrategy(Model):
    any: list[EventFilter]
    until: (
        Annotated[
            Annotated[str, Tag("<condition>")] | Annotated[EventConsumptionStrategy, Tag("<events>")],
            Discriminator(
                _until_kind,
                custom_error_type="until",
                custom_error_message="must be a runtime expression or an event consumption strategy",
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _until_does_not_nest(self) -> AnyEventConsumptionStrategy:
        if isinstance(self.until, AnyEventConsumptionStrategy) and self.until.until is not None:
            raise ValueError("the events of an 'until' cannot have an 'until' of their own")
        return self


_STRATEGIES: dict[str, type[BaseModel]] = {
    "<all>": AllEventConsumptionStrategy,
    "<any>": AnyEventConsumptionStrategy,
    "<one>": OneEventConsumptionStrategy,
}


def _strategy_kind(value: Any) -> str | None:
    return kind_of(value, ("all", "any", "one"), _STRATEGIES)


EventConsumptionStrategy = Annotated[
    Annotated[AllEventConsumptionStrategy, Tag("<all>")]
    | Annotated[AnyEventConsumptionStrategy, Tag("<any>")]
    | Annotated[OneEventConsumptionStrategy, Tag("<one>")],
    Discriminator(
        _strategy_kind,
        custom_error_type="events",
        custom_error_message="must be a mapping with one of: all, any, one",
    ),
]

AnyEventConsumptionStrategy.model_rebuild()
