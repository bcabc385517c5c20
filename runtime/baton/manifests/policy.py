"""The ``Policy`` resource: authentication, authorization and rate limits a Workflow references."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from baton.manifests.common import Model, ObjectMeta

__all__ = [
    "ApiKeyAuthentication",
    "AuthorizationRule",
    "BearerAuthentication",
    "Policy",
    "PolicyAuthentication",
    "PolicyAuthorization",
    "PolicySpec",
    "RateLimit",
]


class BearerAuthentication(Model):
    """JWT bearer tokens, checked against an issuer's keys."""

    issuer: str = Field(min_length=1)
    audiences: list[str] = Field(default_factory=list)
    jwks_uri: str | None = Field(default=None, alias="jwksUri")
    #: A Secret key holding a shared HMAC key, for issuers without a JWKS endpoint.
    secret_ref: str | None = Field(default=None, alias="secretRef")


class ApiKeyAuthentication(Model):
    header: str = "X-API-Key"
    #: Name of a Kubernetes Secret whose values are the accepted keys.
    secret_ref: str = Field(alias="secretRef")


class PolicyAuthentication(Model):
    bearer: BearerAuthentication | None = None
    api_key: ApiKeyAuthentication | None = Field(default=None, alias="apiKey")

    @model_validator(mode="after")
    def _exactly_one_scheme(self) -> PolicyAuthentication:
        if (self.bearer is None) == (self.api_key is None):
            raise ValueError("set exactly one of bearer or apiKey")
        return self


class AuthorizationRule(Model):
    """A request is allowed when every claim named here has one of the listed values."""

    claims: dict[str, list[str]] = Field(default_factory=dict)
    scopes: list[str] = Field(default_factory=list)


class PolicyAuthorization(Model):
    #: Allowed when any rule matches; an empty list allows nothing.
    rules: list[AuthorizationRule] = Field(min_length=1)


class RateLimit(Model):
    requests_per_second: float = Field(gt=0, le=1_000_000, alias="requestsPerSecond")
    burst: int = Field(default=1, ge=1, le=1_000_000)
    key: Literal["global", "client", "header"] = "client"
    header: str | None = None


class PolicySpec(Model):
    authentication: PolicyAuthentication | None = None
    authorization: PolicyAuthorization | None = None
    rate_limit: RateLimit | None = Field(default=None, alias="rateLimit")


class Policy(Model):
    api_version: Literal["baton.dev/v1alpha1"] = Field(default="baton.dev/v1alpha1", alias="apiVersion")
    kind: Literal["Policy"] = "Policy"
    metadata: ObjectMeta
    spec: PolicySpec
