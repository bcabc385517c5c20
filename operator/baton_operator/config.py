"""What the operator is told by its deployment (the chart's values arrive as environment)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OperatorConfig"]

_DEFAULT_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"memory": "256Mi"},
}


@dataclass(frozen=True, kw_only=True)
class OperatorConfig:
    #: Image of the runtime pods (``baton serve``), pinned by the chart.
    runtime_image: str = "ghcr.io/baton-dev/baton-runtime:0.1.0"
    image_pull_policy: str = "IfNotPresent"
    #: OTLP endpoint the runtime pods export traces to; empty turns tracing export off.
    otlp_endpoint: str = ""
    otlp_protocol: str = "http/protobuf"
    #: Requests and limits of a runtime container when the Workflow does not set them.
    default_resources: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: _DEFAULT_RESOURCES)
    #: Namespaces to watch; empty means cluster-wide.
    namespaces: tuple[str, ...] = ()
    #: Seconds between two status refreshes of one workflow (readiness and run summary).
    status_interval: float = 5.0
    #: Port the runtime container listens on (endpoint, health and summary).
    runtime_port: int = 8080
    cluster_domain: str = "cluster.local"
    #: ``module:function`` resolving a workflow's scrape targets; empty = its EndpointSlices.
    target_resolver: str = ""
    leader_election: bool = True
    lease_name: str = "baton-operator"
    lease_namespace: str = "default"
    identity: str = field(default_factory=lambda: os.environ.get("POD_NAME") or os.uname().nodename)
    metrics_port: int = 9090
    health_port: int = 8081

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OperatorConfig:
        """Read ``BATON_*`` variables; unset ones keep their defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        text = {
            "BATON_RUNTIME_IMAGE": "runtime_image",
            "BATON_IMAGE_PULL_POLICY": "image_pull_policy",
            "BATON_OTLP_ENDPOINT": "otlp_endpoint",
            "BATON_OTLP_PROTOCOL": "otlp_protocol",
            "BATON_CLUSTER_DOMAIN": "cluster_domain",
            "BATON_TARGET_RESOLVER": "target_resolver",
            "BATON_LEASE_NAME": "lease_name",
            "BATON_LEASE_NAMESPACE": "lease_namespace",
            "BATON_IDENTITY": "identity",
        }
        for variable, name in text.items():
            if variable in env:
                values[name] = env[variable]
        numbers = {
            "BATON_STATUS_INTERVAL": ("status_interval", float),
            "BATON_RUNTIME_PORT": ("runtime_port", int),
            "BATON_METRICS_PORT": ("metrics_port", int),
            "BATON_HEALTH_PORT": ("health_port", int),
        }
        for variable, (name, kind) in numbers.items():
            if env.get(variable):
                try:
                    values[name] = kind(env[variable])
                except ValueError as exc:
                    raise ValueError(f"{variable}={env[variable]!r} is not a number") from exc
        if env.get("BATON_NAMESPACES"):
            values["namespaces"] = tuple(n.strip() for n in env["BATON_NAMESPACES"].split(",") if n.strip())
        if "BATON_LEADER_ELECTION" in env:
            values["leader_election"] = env["BATON_LEADER_ELECTION"].lower() not in ("0", "false", "no")
        if env.get("BATON_DEFAULT_RESOURCES"):
            try:
                resources = json.loads(env["BATON_DEFAULT_RESOURCES"])
            except json.JSONDecodeError as exc:
                raise ValueError(f"BATON_DEFAULT_RESOURCES is not JSON: {exc}") from exc
            if not isinstance(resources, dict):
                raise ValueError("BATON_DEFAULT_RESOURCES must be a JSON object with requests/limits")
            values["default_resources"] = resources
        if values.get("status_interval", 5.0) < 1.0:
            raise ValueError("BATON_STATUS_INTERVAL must be at least 1 second")
        return cls(**values)
