"""A small async Kubernetes API client: server-side apply, get, list, delete, status, events.

Why not the generated client: it is synchronous (a thread per call) and has no generic
server-side apply. Credentials still come from the ``kubernetes`` package's loaders, so
kubeconfig files, in-cluster tokens (re-read as they rotate) and client certificates all work.
Transient failures (no answer, 429, 5xx) are retried here with exponential backoff; everything
else is raised as ``KubeError`` for the caller to decide.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from kubernetes import config as kube_config
from kubernetes.client import Configuration

from baton_operator.errors import KubeError
from baton_operator.metrics import API_REQUESTS
from baton_operator.naming import MANAGER

__all__ = ["Kube", "Resource", "load_configuration", "resource_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Resource:
    api_version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None, name: str | None = None, subresource: str | None = None) -> str:
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        parts = [prefix]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name:
            parts.append(quote(name, safe=""))
        if subresource:
            parts.append(subresource)
        return "/".join(parts)


_RESOURCES = {
    ("v1", "ConfigMap"): Resource("v1", "configmaps"),
    ("v1", "Service"): Resource("v1", "services"),
    ("v1", "ServiceAccount"): Resource("v1", "serviceaccounts"),
    ("v1", "Event"): Resource("v1", "events"),
    ("v1", "Secret"): Resource("v1", "secrets"),
    ("apps/v1", "Deployment"): Resource("apps/v1", "deployments"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): Resource("autoscaling/v2", "horizontalpodautoscalers"),
    ("policy/v1", "PodDisruptionBudget"): Resource("policy/v1", "poddisruptionbudgets"),
    ("discovery.k8s.io/v1", "EndpointSlice"): Resource("discovery.k8s.io/v1", "endpointslices"),
    ("coordination.k8s.io/v1", "Lease"): Resource("coordination.k8s.io/v1", "leases"),
    ("baton.dev/v1alpha1", "Workflow"): Resource("baton.dev/v1alpha1", "workflows"),
    ("baton.dev/v1alpha1", "Policy"): Resource("baton.dev/v1alpha1", "policies"),
}


def resource_of(api_version: str, kind: str) -> Resource:
    try:
        return _RESOURCES[(api_version, kind)]
    except KeyError:
        raise KeyError(f"the operator does not manage {api_version} {kind}") from None


def load_configuration(kubeconfig: str | None = None) -> Configuration:
    """In-cluster credentials when running in a pod, else the kubeconfig (``KUBECONFIG``)."""
    configuration = Configuration()
    try:
        if kubeconfig is None:
            kube_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return configuration
    except kube_config.ConfigException:
        pass
    kube_config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=kubeconfig, client_configuration=configuration
    )
    return configuration


def _ssl_context(configuration: Configuration) -> ssl.SSLContext | bool:
    if not configuration.verify_ssl:
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    return context


class Kube:
    """One pooled HTTP session to the API server; use as an async context manager."""

    def __init__(
        self,
        configuration: Configuration,
        *,
        attempts: int = 4,
        backoff: float = 0.25,
        timeout: float = 30.0,
    ) -> None:
        self._configuration = configuration
        self._attempts = attempts
        self._backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def connection_info(self) -> Any:
        """The same credentials for Kopf's own watches (a ``kopf.ConnectionInfo``)."""
        import kopf  # only where Kopf runs: this module stays usable without it

        configuration = self._configuration
        token = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
        return kopf.ConnectionInfo(
            server=configuration.host,
            ca_path=configuration.ssl_ca_cert or None,
            insecure=not configuration.verify_ssl,
            scheme="Bearer" if token else None,
            token=_bare_token(token),
            certificate_path=configuration.cert_file or None,
            private_key_path=configuration.key_file or None,
        )

    async def __aenter__(self) -> Kube:
        connector = aiohttp.TCPConnector(ssl=_ssl_context(self._configuration), limit=20)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        if self._session is None:
            raise RuntimeError("Kube is used outside its `async with` block")
        url = self._configuration.host.rstrip("/") + path
        headers = {"Accept": "application/json", "Content-Type": content_type}
        token = self._configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            headers["Authorization"] = token
        data = None if body is None else json.dumps(body)
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._session.request(
                    method, url, data=data, params=params, headers=headers
                ) as response:
                    text = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = KubeError(0, "Unreachable", f"{method} {path}: {exc or type(exc).__name__}")
            else:
                API_REQUESTS.labels(method, str(status)).inc()
                if status < 400:
                    return json.loads(text) if text else None
                error = _error(status, text, method, path)
            if not error.transient or attempt == self._attempts:
                raise error
            log.warning("API request failed, retrying", extra={"attempt": attempt, "error": str(error)})
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply as the operator's field manager: idempotent by construction."""
        metadata = obj["metadata"]
        resource = resource_of(obj["apiVersion"], obj["kind"])
        result = await self.request(
            "PATCH",
            resource.path(metadata.get("namespace"), metadata["name"]),
            body=obj,
            params={"fieldManager": MANAGER, "force": "true"},
            content_type="application/apply-patch+yaml",
        )
        return dict(result)

    async def get(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        try:
            result = await self.request("GET", resource_of(api_version, kind).path(namespace, name))
        except KubeError as exc:
            if exc.not_found:
                return None
            raise
        return dict(result)

    async def list(
        self, api_version: str, kind: str, namespace: str | None, *, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        params = {"labelSelector": label_selector} if label_selector else None
        result = await self.request("GET", resource_of(api_version, kind).path(namespace), params=params)
        return list(result.get("items") or [])

    async def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        """False when it was already gone: deleting is idempotent too."""
        try:
            await self.request(
                "DELETE",
                resource_of(api_version, kind).path(namespace, name),
                body={"propagationPolicy": "Background"},
            )
        except KubeError as exc:
            if exc.not_found:
                return False
            raise
        return True

    async def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]:
        result = await self.request(
            "PATCH",
            resource_of(api_version, kind).path(namespace, name, "status"),
            body={"status": status},
            content_type="application/merge-patch+json",
        )
        return dict(result)

    async def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        metadata = obj["metadata"]
        resource = resource_of(obj["apiVersion"], obj["kind"])
        return dict(await self.request("POST", resource.path(metadata.get("namespace")), body=obj))

    async def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """PUT with the object's resourceVersion: fails with 409 when someone else wrote first."""
        metadata = obj["metadata"]
        resource = resource_of(obj["apiVersion"], obj["kind"])
        return dict(
            await self.request("PUT", resource.path(metadata.get("namespace"), metadata["name"]), body=obj)
        )


def _bare_token(value: str | None) -> str | None:
    """The loaders store ``Bearer <t>`` (kubeconfig) or ``bearer <t>`` (in-cluster)."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else value.strip()


def _error(status: int, text: str, method: str, path: str) -> KubeError:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = {}
    reason = str(data.get("reason") or "Error") if isinstance(data, dict) else "Error"
    message = str(data.get("message") or text[:200]) if isinstance(data, dict) else text[:200]
    return KubeError(status, reason, f"{method} {path}: {message}")
