"""The ``Workflow`` resource: an HTTP endpoint contract plus a Serverless Workflow document."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from baton.manifests.common import DNS_LABEL, Model, ObjectMeta

__all__ = [
    "Autoscaling",
    "Canary",
    "Endpoint",
    "History",
    "Idempotency",
    "PodDisruptionBudget",
    "Resources",
    "Rollout",
    "RuntimeSettings",
    "Workflow",
    "WorkflowSpec",
]

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

#: An absolute path of literal segments: no query, no fragment, no segment starting with a dot
#: (so no `..`), so that routing is exact. RE2 syntax, so the CRD's CEL rule can use it as is.
ENDPOINT_PATH = r"^/([A-Za-z0-9_~-][A-Za-z0-9._~-]*(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*)?$"


class Endpoint(Model):
    """Where the flow is served and what requests it accepts before any upstream call."""

    method: HttpMethod = "POST"
    path: str = Field(pattern=ENDPOINT_PATH, max_length=256)
    max_body_bytes: int = Field(default=1_048_576, ge=1, le=64 * 1_048_576, alias="maxBodyBytes")
    content_types: list[str] = Field(
        default_factory=lambda: ["application/json"], min_length=1, alias="contentTypes"
    )
    #: The output contract: ``body`` answers 200 with the workflow output as the JSON body;
    #: ``envelope`` reads the output as ``{status, headers, body}`` so a workflow chooses them.
    output: Literal["body", "envelope"] = "body"


class Idempotency(Model):
    """How long a response stored under an ``Idempotency-Key`` is replayed."""

    ttl_seconds: int = Field(default=86_400, ge=1, le=7 * 86_400, alias="ttlSeconds")


class Canary(Model):
    """A second version served beside the stable one, for a share of the traffic."""

    workflow: dict[str, Any]
    weight: int = Field(ge=0, le=100)


class Rollout(Model):
    canary: Canary | None = None


class Resources(Model):
    """Kubernetes resource requests and limits of each runtime container."""

    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)


class Autoscaling(Model):
    min_replicas: int = Field(default=1, ge=1, le=100, alias="minReplicas")
    max_replicas: int = Field(ge=1, le=100, alias="maxReplicas")
    target_cpu_utilization: int = Field(default=75, ge=1, le=100, alias="targetCPUUtilizationPercentage")

    @model_validator(mode="after")
    def _bounds_are_ordered(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError("minReplicas must not exceed maxReplicas")
        return self


class PodDisruptionBudget(Model):
    min_available: int = Field(default=1, ge=0, alias="minAvailable")


class RuntimeSettings(Model):
    """How the operator deploys the runtime pods that serve this workflow."""

    replicas: int = Field(default=1, ge=0, le=100)
    resources: Resources | None = None
    autoscaling: Autoscaling | None = None
    pod_disruption_budget: PodDisruptionBudget | None = Field(default=None, alias="podDisruptionBudget")


class History(Model):
    """How many past revisions stay rendered, so that a rollback needs no re-render."""

    limit: int = Field(default=5, ge=1, le=50)


class WorkflowSpec(Model):
    endpoint: Endpoint
    #: The Serverless Workflow DSL 1.0 document, validated by ``baton.dsl`` (its schema is too
    #: large and recursive for a structural CRD schema, so the CRD preserves it as given).
    workflow: dict[str, Any]
    policies: list[str] = Field(default_factory=list)
    #: Names of Kubernetes Secrets whose keys become ``$secrets`` in expressions.
    secrets: list[str] = Field(default_factory=list)
    timeout_seconds: float | None = Field(default=None, gt=0, le=3600, alias="timeoutSeconds")
    idempotency: Idempotency = Field(default_factory=Idempotency)
    rollout: Rollout | None = None
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    history: History = Field(default_factory=History)

    @model_validator(mode="after")
    def _names_are_labels(self) -> WorkflowSpec:
        for field, names in (("policies", self.policies), ("secrets", self.secrets)):
            for index, name in enumerate(names):
                if not re.match(DNS_LABEL, name):
                    raise ValueError(f"{field}[{index}]: {name!r} is not a valid Kubernetes name")
        return self


class Workflow(Model):
    api_version: Literal["baton.dev/v1alpha1"] = Field(default="baton.dev/v1alpha1", alias="apiVersion")
    kind: Literal["Workflow"] = "Workflow"
    metadata: ObjectMeta
    spec: WorkflowSpec
