"""Thin Kopf handlers: they find what to act on and call ``reconcile``; nothing else.

Registered on a registry passed in (not Kopf's global one), so a test or an embedding process
runs exactly these handlers and no others. Workflows carry no finalizer: everything the operator
creates has an owner reference, so the garbage collector deletes it with the Workflow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf

from baton_operator.errors import KubeError
from baton_operator.kube import Kube
from baton_operator.metrics import RECONCILE_SECONDS, RECONCILES
from baton_operator.reconcile import Context, reconcile_workflow, refresh_status

__all__ = ["register"]

log = logging.getLogger(__name__)

WORKFLOWS = ("baton.dev", "v1alpha1", "workflows")
POLICIES = ("baton.dev", "v1alpha1", "policies")


def _policies_in(index: Any, namespace: str) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for (ns, name), store in index.items():
        if ns == namespace:
            for body in store:
                found[name] = body
    return found


async def _reconcile_named(ctx: Context, namespace: str, name: str, index: Any) -> str | None:
    """Reconcile from a fresh read: Kopf's cached body may predate our own last status write."""
    async with ctx.lock(namespace, name):
        body = await ctx.kube.get("baton.dev/v1alpha1", "Workflow", namespace, name)
        if body is None or body["metadata"].get("deletionTimestamp"):
            return None
        with RECONCILE_SECONDS.time():
            try:
                outcome = await reconcile_workflow(ctx, body, policies=_policies_in(index, namespace))
            except KubeError as exc:
                RECONCILES.labels("error").inc()
                delay = 5 if exc.transient or exc.conflict else 30
                raise kopf.TemporaryError(f"Kubernetes API: {exc}", delay=delay) from exc
        RECONCILES.labels(outcome).inc()
        return outcome


def _ns(namespace: str | None) -> str:
    if not namespace:  # Workflows and Policies are namespaced: the CRD says so
        raise kopf.PermanentError("a Baton resource without a namespace")
    return namespace


def register(registry: kopf.OperatorRegistry, *, status_interval: float) -> None:
    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # Kopf's bookkeeping goes to annotations: the status schema is structural and ours.
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="baton.dev")
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix="baton.dev", key="last-handled-configuration"
        )
        settings.persistence.finalizer = "baton.dev/operator"
        # Our own Events say what matters; Kopf's per-handler ones would be noise.
        settings.posting.level = logging.WARNING
        settings.batching.error_delays = (1, 2, 5, 10, 30, 60)
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        settings.networking.request_timeout = 60

    @kopf.on.login(registry=registry)
    def login(*, memo: Any, **_: Any) -> kopf.ConnectionInfo:
        kube: Kube = memo["ctx"].kube
        info: kopf.ConnectionInfo = kube.connection_info()
        return info

    @kopf.index(*POLICIES, id="policies_by_name", registry=registry)
    def policies_by_name(*, namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Any, Any]:
        return {
            (namespace, name): {
                "apiVersion": body.get("apiVersion"),
                "kind": "Policy",
                "metadata": {"name": name, "namespace": namespace},
                "spec": dict(body.spec),
            }
        }

    @kopf.index(*WORKFLOWS, id="workflows_by_policy", registry=registry)
    def workflows_by_policy(*, namespace: str | None, name: str, spec: kopf.Spec, **_: Any) -> dict[Any, Any]:
        return {(namespace, policy): name for policy in spec.get("policies") or () if isinstance(policy, str)}

    @kopf.on.resume(
        *WORKFLOWS, id="reconcile", registry=registry, errors=kopf.ErrorsMode.TEMPORARY, backoff=5
    )
    @kopf.on.create(
        *WORKFLOWS, id="reconcile", registry=registry, errors=kopf.ErrorsMode.TEMPORARY, backoff=5
    )
    @kopf.on.update(
        *WORKFLOWS, id="reconcile", registry=registry, errors=kopf.ErrorsMode.TEMPORARY, backoff=5
    )
    async def reconcile(*, namespace: str | None, name: str, memo: Any, **kwargs: Any) -> None:
        await _reconcile_named(memo["ctx"], _ns(namespace), name, kwargs["policies_by_name"])

    @kopf.on.event(*POLICIES, id="roll-policy-users", registry=registry)
    async def roll_policy_users(
        *, type: str | None, namespace: str | None, name: str, memo: Any, **kwargs: Any
    ) -> None:
        # The initial listing (type None) needs nothing: resuming each Workflow covers it.
        if type is None:
            return
        namespace = _ns(namespace)
        policies_by_name = kwargs["policies_by_name"]
        users = sorted(set(kwargs["workflows_by_policy"].get((namespace, name), ())))
        for workflow in users:
            log.info(
                "policy changed; rolling workflow",
                extra={"policy": f"{namespace}/{name}", "workflow": workflow},
            )
            try:
                await _reconcile_named(memo["ctx"], namespace, workflow, policies_by_name)
            except kopf.TemporaryError as exc:
                log.error(
                    "workflow not rolled after a policy change",
                    extra={"workflow": workflow, "error": str(exc)},
                )

    @kopf.timer(
        *WORKFLOWS,
        id="refresh-status",
        registry=registry,
        interval=status_interval,
        initial_delay=status_interval,
    )
    async def refresh(*, namespace: str | None, name: str, memo: Any, **kwargs: Any) -> None:
        ctx: Context = memo["ctx"]
        namespace = _ns(namespace)
        async with ctx.lock(namespace, name):
            body = await ctx.kube.get("baton.dev/v1alpha1", "Workflow", namespace, name)
            if body is None:
                return
            try:
                drifted = await refresh_status(ctx, body)
            except KubeError as exc:
                log.warning(
                    "status refresh failed", extra={"workflow": f"{namespace}/{name}", "error": str(exc)}
                )
                return
        if drifted:
            # Someone deleted or replaced what serves it: render it again (self-healing).
            log.warning("runtime Deployment drifted; reconciling", extra={"workflow": f"{namespace}/{name}"})
            try:
                await _reconcile_named(ctx, namespace, name, kwargs["policies_by_name"])
            except kopf.TemporaryError as exc:
                log.warning(
                    "reconcile after drift failed",
                    extra={"workflow": f"{namespace}/{name}", "error": str(exc)},
                )
