"""Names, labels and addresses of everything the operator creates for one Workflow.

One place, so that render, reconcile and the status agree on them.
"""

from __future__ import annotations

from baton.manifests import GROUP_VERSION

__all__ = [
    "LABEL_MANAGED_BY",
    "LABEL_REVISION",
    "LABEL_ROLE",
    "LABEL_WORKFLOW",
    "MANAGER",
    "configmap_name",
    "endpoint_url",
    "owner_reference",
    "selector_labels",
]

MANAGER = "baton-operator"
LABEL_WORKFLOW = "baton.dev/workflow"
LABEL_REVISION = "baton.dev/revision"
#: ``stable`` or ``canary``: which version a rendered ConfigMap holds.
LABEL_ROLE = "baton.dev/role"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"


def selector_labels(workflow: str) -> dict[str, str]:
    """Labels selecting the runtime pods of one workflow, whatever their revision."""
    return {"app.kubernetes.io/name": "baton-runtime", "app.kubernetes.io/instance": workflow}


def configmap_name(workflow: str, revision: str) -> str:
    return f"{workflow}-{revision}"


def endpoint_url(*, workflow: str, namespace: str, path: str, cluster_domain: str) -> str:
    """The flow's in-cluster URL, through the Service that carries the workflow's name."""
    return f"http://{workflow}.{namespace}.svc.{cluster_domain}{path}"


def owner_reference(*, name: str, uid: str) -> dict[str, object]:
    """Controller reference to the Workflow, so deleting it garbage-collects what it owns."""
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "Workflow",
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
