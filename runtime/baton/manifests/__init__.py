"""Baton's Kubernetes resources (``baton.dev/v1alpha1``) as typed models.

The same models are read by ``baton serve`` (manifests on disk), by the runtime pods (manifests
the operator rendered into ConfigMaps) and by the operator, whose CRD schemas are generated from
them, so the three cannot drift apart.
"""

from baton.manifests.common import API_GROUP, API_VERSION, GROUP_VERSION, ObjectMeta
from baton.manifests.policy import (
    ApiKeyAuthentication,
    AuthorizationRule,
    BearerAuthentication,
    Policy,
    PolicyAuthentication,
    PolicyAuthorization,
    PolicySpec,
    RateLimit,
)
from baton.manifests.workflow import (
    Autoscaling,
    Canary,
    Endpoint,
    History,
    Idempotency,
    PodDisruptionBudget,
    Resources,
    Rollout,
    RuntimeSettings,
    Workflow,
    WorkflowSpec,
)

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "GROUP_VERSION",
    "ApiKeyAuthentication",
    "AuthorizationRule",
    "Autoscaling",
    "BearerAuthentication",
    "Canary",
    "Endpoint",
    "History",
    "Idempotency",
    "ObjectMeta",
    "PodDisruptionBudget",
    "Policy",
    "PolicyAuthentication",
    "PolicyAuthorization",
    "PolicySpec",
    "RateLimit",
    "Resources",
    "Rollout",
    "RuntimeSettings",
    "Workflow",
    "WorkflowSpec",
]
