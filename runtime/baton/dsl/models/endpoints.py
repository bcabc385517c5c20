"""Endpoints (a URI, a URI template, an expression or an object with authentication) and resources."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Tag

from baton.dsl.models._base import ExpressionOrUri, Model
from baton.dsl.models.authentication import ReferenceableAuthenticationPolicy

__all__ = ["Catalog", "Endpoint", "EndpointConfiguration", "ExternalResource"]


class EndpointConfiguration(Model):
    uri: ExpressionOrUri
    authentication: ReferenceableAuthenticationPolicy | None = None


def _endpoint_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "<uri>"
    if isinstance(value, dict | EndpointConfiguration):
        return "<configuration>"
    return None


Endpoint = Annotated[
    Annotated[ExpressionOrUri, Tag("<uri>")] | Annotated[EndpointConfiguration, Tag("<configuration>")],
    Discriminator(
        _endpoint_kind,
        custom_error_type="endpoint",
        custom_error_message=(
            "must be an absolute URI, a runtime expression, or {uri: ..., authentication: ...}"
        ),
    ),
]


class ExternalResource(Model):
    name: str | None = None
    endpoint: Endpoint


class Catalog(Model):
    """A place other workflows and functions are fetched from (``use.catalogs``)."""

    endpoint: Endpoint
