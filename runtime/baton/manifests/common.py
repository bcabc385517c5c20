"""What every Baton resource shares: the API group and Kubernetes object metadata."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["API_GROUP", "API_VERSION", "DNS_LABEL", "GROUP_VERSION", "Model", "ObjectMeta"]

API_GROUP = "baton.dev"
API_VERSION = "v1alpha1"
GROUP_VERSION = f"{API_GROUP}/{API_VERSION}"

#: RFC 1123 label: what Kubernetes accepts as a Service or Deployment name.
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class Model(BaseModel):
    """Strict camelCase models: an unknown field in a manifest is a typo, not data."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ObjectMeta(BaseModel):
    """The part of Kubernetes metadata Baton reads; the rest is kept, not interpreted."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    name: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL)
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    generation: int | None = None
