"""Desired state: the Kubernetes objects that serve one valid Workflow, as plain dicts.

Pure functions of (workflow, its policies, operator config, owner identity); reconcile applies
what they return with server-side apply, so rendering the same input twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from baton.definitions import WEIGHT_ANNOTATION
from baton.manifests import Policy, Workflow
from baton_operator.config import OperatorConfig
from baton_operator.naming import (
    LABEL_MANAGED_BY,
    LABEL_REVISION,
    LABEL_WORKFLOW,
    MANAGER,
    configmap_name,
    owner_reference,
    selector_labels,
)
from baton_operator.revisions import revision_of

__all__ = [
    "MANIFEST_DIR",
    "SECRETS_DIR",
    "Owner",
    "Rendering",
    "document_version",
    "render",
    "runtime_files",
]

#: Where runtime pods find the rendered manifests (``baton serve MANIFEST_DIR``).
MANIFEST_DIR = "/etc/baton/workflows"
#: One folder per Secret; its files are the Secret's keys, read as ``$secrets.<secret>.<key>``.
SECRETS_DIR = "/var/run/secrets/baton"
#: The non-root user of the runtime image (distroless ``nonroot``).
_RUNTIME_UID = 65532


@dataclass(frozen=True, slots=True)
class Owner:
    name: str
    namespace: str
    uid: str


@dataclass(frozen=True, slots=True)
class Rendering:
    revision: str
    version: str
    canary_version: str | None
    canary_weight: int | None
    configmap: dict[str, Any]
    service_account: dict[str, Any]
    service: dict[str, Any]
    deployment: dict[str, Any]
    hpa: dict[str, Any] | None
    pdb: dict[str, Any] | None
    secrets: tuple[str, ...] = field(default=())

    def objects(self) -> list[dict[str, Any]]:
        """In apply order: what a Deployment mounts exists before the Deployment does."""
        ordered = [self.service_account, self.configmap, self.service, self.deployment]
        return ordered + [o for o in (self.hpa, self.pdb) if o is not None]


def document_version(document: Mapping[str, Any]) -> str:
    header = document.get("document")
    version = header.get("version") if isinstance(header, Mapping) else None
    return str(version) if version is not None else ""


def _runtime_manifest(workflow: Workflow, *, namespace: str) -> dict[str, Any]:
    """The Workflow as the runtime reads it: only what changes behaviour, so only that revisions.

    A canary stays inside (``spec.rollout``): ``baton serve`` loads both versions from one
    manifest and splits traffic by the canary's weight. The ``baton.dev/weight`` annotation
    goes along when set: it is the stable version's share beside the canary's there, so
    without it the pods would split traffic unlike ``baton serve`` of the same manifest.
    """
    spec = workflow.spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    for operator_only in ("runtime", "history"):
        spec.pop(operator_only, None)
    metadata: dict[str, Any] = {"name": workflow.metadata.name, "namespace": namespace}
    weight = workflow.metadata.annotations.get(WEIGHT_ANNOTATION)
    if weight is not None:
        metadata["annotations"] = {WEIGHT_ANNOTATION: weight}
    return {"apiVersion": workflow.api_version, "kind": "Workflow", "metadata": metadata, "spec": spec}


def _policy_manifest(policy: Policy, *, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": policy.api_version,
        "kind": "Policy",
        "metadata": {"name": policy.metadata.name, "namespace": namespace},
        "spec": policy.spec.model_dump(by_alias=True, exclude_none=True, mode="json"),
    }


#: Plain scalars YAML 1.2's core schema reads as something other than a string. PyYAML writes
#: YAML 1.1 and leaves these plain (``1e3``, ``0o17`` are strings to it), but the runtime pods
#: read with ``baton.dsl``'s YAML 1.2 reader, so a string ``"1e3"`` would run as ``1000.0``.
_NOT_A_STRING_IN_YAML_1_2 = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _Dumper(yaml.SafeDumper):
    """Writes YAML that reads back the same under YAML 1.1 and 1.2."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if _NOT_A_STRING_IN_YAML_1_2.match(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(obj: Mapping[str, Any]) -> str:
    return yaml.dump(dict(obj), Dumper=_Dumper, sort_keys=True, default_flow_style=False)


def runtime_files(workflow: Workflow, policies: Sequence[Policy], *, namespace: str) -> dict[str, str]:
    """The ConfigMap's files: the Workflow (with its canary, if any) and the Policies it names."""
    files = {"workflow.yaml": _dump(_runtime_manifest(workflow, namespace=namespace))}
    for policy in sorted(policies, key=lambda p: p.metadata.name):
        files[f"policy-{policy.metadata.name}.yaml"] = _dump(_policy_manifest(policy, namespace=namespace))
    return files


def _metadata(name: str, owner: Owner, *, revision: str | None = None) -> dict[str, Any]:
    labels = {**selector_labels(owner.name), LABEL_WORKFLOW: owner.name, LABEL_MANAGED_BY: MANAGER}
    if revision is not None:
        labels[LABEL_REVISION] = revision
    return {
        "name": name,
        "namespace": owner.namespace,
        "labels": labels,
        "ownerReferences": [owner_reference(name=owner.name, uid=owner.uid)],
    }


def _secret_names(workflow: Workflow, policies: Sequence[Policy]) -> tuple[str, ...]:
    names = list(workflow.spec.secrets)
    for policy in policies:
        authentication = policy.spec.authentication
        if authentication is None:
            continue
        if authentication.api_key is not None:
            names.append(authentication.api_key.secret_ref)
        if authentication.bearer is not None and authentication.bearer.secret_ref:
            names.append(authentication.bearer.secret_ref)
    return tuple(dict.fromkeys(names))


def _env(owner: Owner, revision: str, config: OperatorConfig) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "OTEL_SERVICE_NAME", "value": f"{owner.name}.{owner.namespace}"},
        {
            "name": "OTEL_RESOURCE_ATTRIBUTES",
            "value": (
                f"k8s.namespace.name={owner.namespace},k8s.pod.name=$(POD_NAME),"
                f"baton.workflow={owner.name},baton.revision={revision}"
            ),
        },
    ]
    if config.otlp_endpoint:
        env += [
            {"name": "OTEL_TRACES_EXPORTER", "value": "otlp"},
            {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": config.otlp_endpoint},
            {"name": "OTEL_EXPORTER_OTLP_PROTOCOL", "value": config.otlp_protocol},
        ]
    else:
        env.append({"name": "OTEL_TRACES_EXPORTER", "value": "none"})
    return env


def _resources(workflow: Workflow, config: OperatorConfig) -> dict[str, Any]:
    asked = workflow.spec.runtime.resources
    if asked is not None and (asked.requests or asked.limits):
        return {k: dict(v) for k, v in (("requests", asked.requests), ("limits", asked.limits)) if v}
    return {k: dict(v) for k, v in config.default_resources.items()}


def _args(secrets: Sequence[str], config: OperatorConfig) -> list[str]:
    args = ["serve", MANIFEST_DIR, "--host", "0.0.0.0", "--port", str(config.runtime_port)]
    # The runtime drains in-flight runs for this long; the pod's grace period is longer.
    args += ["--grace-period", "30"]
    if secrets:
        args += ["--secrets-dir", SECRETS_DIR]
    return args


def _deployment(
    workflow: Workflow, owner: Owner, revision: str, secrets: Sequence[str], config: OperatorConfig
) -> dict[str, Any]:
    probe = {"httpGet": {"port": "http"}, "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 3}
    mounts: list[dict[str, Any]] = [
        {"name": "workflows", "mountPath": MANIFEST_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "workflows", "configMap": {"name": configmap_name(owner.name, revision)}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    for index, secret in enumerate(secrets):
        volume = f"secret-{index}"
        mounts.append({"name": volume, "mountPath": f"{SECRETS_DIR}/{secret}", "readOnly": True})
        volumes.append({"name": volume, "secret": {"secretName": secret}})
    container = {
        "name": "runtime",
        "image": config.runtime_image,
        "imagePullPolicy": config.image_pull_policy,
        "args": _args(secrets, config),
        "ports": [{"name": "http", "containerPort": config.runtime_port, "protocol": "TCP"}],
        "env": _env(owner, revision, config),
        "resources": _resources(workflow, config),
        "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": "http"}},
        "livenessProbe": {**probe, "httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 5},
        "volumeMounts": mounts,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    pod_labels = {**selector_labels(owner.name), LABEL_WORKFLOW: owner.name, LABEL_REVISION: revision}
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector_labels(owner.name)},
        "revisionHistoryLimit": workflow.spec.history.limit,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": pod_labels},
            "spec": {
                "serviceAccountName": owner.name,
                # The runtime reads nothing from the Kubernetes API: no token in its pods.
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": _RUNTIME_UID,
                    "runAsGroup": _RUNTIME_UID,
                    "fsGroup": _RUNTIME_UID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                # Longer than the runtime's own drain of in-flight runs.
                "terminationGracePeriodSeconds": 45,
                "containers": [container],
                "volumes": volumes,
            },
        },
    }
    # With an autoscaler the HPA owns the replica count; applying ours would fight it.
    if workflow.spec.runtime.autoscaling is None:
        spec["replicas"] = workflow.spec.runtime.replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(owner.name, owner, revision=revision),
        "spec": spec,
    }


def render(
    workflow: Workflow, policies: Sequence[Policy], *, owner: Owner, config: OperatorConfig
) -> Rendering:
    files = runtime_files(workflow, policies, namespace=owner.namespace)
    revision = revision_of(files)
    secrets = _secret_names(workflow, policies)
    canary = workflow.spec.rollout.canary if workflow.spec.rollout else None

    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(configmap_name(owner.name, revision), owner, revision=revision),
        # Content-addressed: a change makes a new ConfigMap, never an edit of a served one.
        "immutable": True,
        "data": files,
    }
    service_account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(owner.name, owner),
        "automountServiceAccountToken": False,
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(owner.name, owner),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(owner.name),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    hpa = None
    autoscaling = workflow.spec.runtime.autoscaling
    if autoscaling is not None:
        hpa = {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _metadata(owner.name, owner),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": owner.name},
                "minReplicas": autoscaling.min_replicas,
                "maxReplicas": autoscaling.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "averageUtilization": autoscaling.target_cpu_utilization,
                            },
                        },
                    }
                ],
            },
        }
    pdb = None
    budget = workflow.spec.runtime.pod_disruption_budget
    if budget is not None:
        pdb = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _metadata(owner.name, owner),
            "spec": {
                "minAvailable": budget.min_available,
                "selector": {"matchLabels": selector_labels(owner.name)},
            },
        }
    return Rendering(
        revision=revision,
        version=document_version(workflow.spec.workflow),
        canary_version=document_version(canary.workflow) if canary else None,
        canary_weight=canary.weight if canary else None,
        configmap=configmap,
        service_account=service_account,
        service=service,
        deployment=_deployment(workflow, owner, revision, secrets, config),
        hpa=hpa,
        pdb=pdb,
        secrets=secrets,
    )
