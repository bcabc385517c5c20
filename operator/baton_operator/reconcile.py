"""Reconciling one Workflow: decide, render, apply; and refreshing its status.

Everything here is idempotent: applying is server-side apply of the same rendering (a no-op
when nothing changed), status is written only when it differs, and an Event is posted only
when a problem is first seen. So a handler retried, resumed after a restart, or run twice for
one change converges to the same state and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from baton_operator.conditions import Condition, merge_conditions
from baton_operator.config import OperatorConfig
from baton_operator.decide import (
    RolloutState,
    blocked_conditions,
    record_revision,
    rollout_conditions,
    rollout_state,
    stale_configmaps,
)
from baton_operator.kube import Kube
from baton_operator.metrics import STATUS_WRITES
from baton_operator.naming import LABEL_REVISION, LABEL_WORKFLOW, configmap_name, endpoint_url
from baton_operator.render import Owner, Rendering, render
from baton_operator.scrape import TargetResolver, read_pods
from baton_operator.summary import Ledger, run_status, update_ledger
from baton_operator.validation import format_findings, validate_policy, validate_workflow

__all__ = ["BLOCKING_REASONS", "Context", "reconcile_workflow", "refresh_status"]

log = logging.getLogger(__name__)

GROUP_VERSION = "baton.dev/v1alpha1"
#: Ready=False reasons that mean "this generation will not be deployed until it changes".
BLOCKING_REASONS = frozenset({"InvalidDefinition", "PolicyNotFound", "NameConflict"})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """What every reconciliation shares: one API client, one HTTP session, the config."""

    kube: Kube
    config: OperatorConfig
    http: aiohttp.ClientSession
    resolver: TargetResolver
    clock: Callable[[], datetime] = _utcnow
    _locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)

    def lock(self, namespace: str, name: str) -> asyncio.Lock:
        """One reconciliation or refresh at a time per workflow (handlers, timers, policies)."""
        return self._locks.setdefault((namespace, name), asyncio.Lock())


def _identity(body: Mapping[str, Any]) -> tuple[str, str, str, int]:
    metadata = body["metadata"]
    return metadata["namespace"], metadata["name"], metadata["uid"], int(metadata.get("generation") or 0)


def _ready(status: Mapping[str, Any]) -> Mapping[str, Any]:
    return next((c for c in status.get("conditions") or () if c.get("type") == "Ready"), {})


def _owned_by(obj: Mapping[str, Any] | None, uid: str) -> bool:
    refs = ((obj or {}).get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("uid") == uid and ref.get("controller") for ref in refs)


async def _post_event(ctx: Context, body: Mapping[str, Any], *, kind: str, reason: str, message: str) -> None:
    namespace, name, uid, _ = _identity(body)
    now = ctx.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{name}.", "namespace": namespace},
        "involvedObject": {
            "apiVersion": GROUP_VERSION,
            "kind": "Workflow",
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "resourceVersion": body["metadata"].get("resourceVersion"),
        },
        "type": kind,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": "baton-operator"},
        "reportingComponent": "baton.dev/operator",
        "reportingInstance": ctx.config.identity,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    await ctx.kube.create(event)


async def _write_status(ctx: Context, body: Mapping[str, Any], status: dict[str, Any], *, cause: str) -> bool:
    """Merge-patch only the fields that differ; False (and no API call) when none do."""
    namespace, name, _, _ = _identity(body)
    current = body.get("status") or {}
    changed = {k: v for k, v in status.items() if current.get(k) != v}
    if not changed:
        return False
    STATUS_WRITES.labels(cause).inc()
    await ctx.kube.patch_status(GROUP_VERSION, "Workflow", namespace, name, changed)
    return True


async def _block(ctx: Context, body: Mapping[str, Any], reason: str, problem: str) -> str:
    """Refuse this generation: change nothing in the cluster, say why on status and as an Event."""
    namespace, name, _, generation = _identity(body)
    status = body.get("status") or {}
    wanted = blocked_conditions(reason, problem, generation=generation, serving=status.get("revision"))
    conditions = merge_conditions(status.get("conditions"), wanted, generation=generation, now=ctx.clock())
    before = _ready(status)
    if (before.get("reason"), before.get("message")) != (reason, wanted[0].message):
        await _post_event(ctx, body, kind="Warning", reason=reason, message=wanted[0].message)
    await _write_status(ctx, body, {"observedGeneration": generation, "conditions": conditions}, cause=reason)
    log.warning(
        "workflow not deployed",
        extra={"workflow": f"{namespace}/{name}", "reason": reason, "problem": problem},
    )
    return reason


async def _remove_unwanted(
    ctx: Context, rendering: Rendering, *, namespace: str, name: str, uid: str
) -> None:
    for api_version, kind, wanted in (
        ("autoscaling/v2", "HorizontalPodAutoscaler", rendering.hpa),
        ("policy/v1", "PodDisruptionBudget", rendering.pdb),
    ):
        if wanted is None and _owned_by(await ctx.kube.get(api_version, kind, namespace, name), uid):
            await ctx.kube.delete(api_version, kind, namespace, name)


def _replicas(state: RolloutState) -> dict[str, int]:
    return {
        "desired": state.desired,
        "updated": state.updated,
        "ready": state.ready,
        "available": state.available,
    }


async def reconcile_workflow(
    ctx: Context, body: Mapping[str, Any], *, policies: Mapping[str, Mapping[str, Any]]
) -> str:
    """Bring the cluster to what this generation asks; returns the outcome (a reason)."""
    namespace, name, uid, generation = _identity(body)
    verdict = validate_workflow(body)
    if verdict.workflow is None or not verdict.valid:
        return await _block(ctx, body, "InvalidDefinition", format_findings(verdict.findings))
    workflow = verdict.workflow

    missing = [p for p in workflow.spec.policies if p not in policies]
    if missing:
        listed = ", ".join(missing)
        return await _block(
            ctx,
            body,
            "PolicyNotFound",
            f"Policy {listed} not found in namespace {namespace}; create it or remove it from spec.policies",
        )
    models = []
    for policy_name in workflow.spec.policies:
        policy, findings = validate_policy(policies[policy_name])
        if policy is None:
            problem = f"Policy {policy_name} is invalid: {format_findings(findings)}"
            return await _block(ctx, body, "InvalidDefinition", problem)
        models.append(policy)

    rendering = render(workflow, models, owner=Owner(name, namespace, uid), config=ctx.config)
    for kind, api_version in (("Deployment", "apps/v1"), ("Service", "v1")):
        existing = await ctx.kube.get(api_version, kind, namespace, name)
        if existing is not None and not _owned_by(existing, uid):
            return await _block(
                ctx,
                body,
                "NameConflict",
                f"{kind} {namespace}/{name} exists and is not owned by this Workflow; rename one of them",
            )

    status = body.get("status") or {}
    for obj in rendering.objects():
        await ctx.kube.apply(obj)
    await _remove_unwanted(ctx, rendering, namespace=namespace, name=name, uid=uid)
    if status.get("revision") != rendering.revision:
        await _post_event(
            ctx,
            body,
            kind="Normal",
            reason="RevisionRendered",
            message=f"rolling out revision {rendering.revision} (version {rendering.version})",
        )

    now = ctx.clock()
    history = record_revision(
        status.get("history"),
        workflow=name,
        revision=rendering.revision,
        version=rendering.version,
        generation=generation,
        now=now,
        limit=workflow.spec.history.limit,
    )
    rendered = await ctx.kube.list("v1", "ConfigMap", namespace, label_selector=f"{LABEL_WORKFLOW}={name}")
    # The revision serving until now stays too, even past the limit: its pods mount it until
    # the rollout replaces them.
    previous = status.get("revision")
    keep = [*history, {"configMap": configmap_name(name, previous)}] if previous else history
    for stale in stale_configmaps([c for c in rendered if _owned_by(c, uid)], keep):
        await ctx.kube.delete("v1", "ConfigMap", namespace, stale)

    endpoint = endpoint_url(
        workflow=name,
        namespace=namespace,
        path=workflow.spec.endpoint.path,
        cluster_domain=ctx.config.cluster_domain,
    )
    deployment = await ctx.kube.get("apps/v1", "Deployment", namespace, name)
    state = rollout_state(deployment, revision=rendering.revision)
    wanted = rollout_conditions(
        state, revision=rendering.revision, version=rendering.version, endpoint=endpoint
    )
    new_status: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": merge_conditions(status.get("conditions"), wanted, generation=generation, now=now),
        "revision": rendering.revision,
        "version": rendering.version,
        "endpoint": endpoint,
        "canary": (
            None
            if rendering.canary_version is None
            else {"version": rendering.canary_version, "weight": rendering.canary_weight}
        ),
        "replicas": _replicas(state),
        "history": history,
    }
    await _write_status(ctx, body, new_status, cause="reconcile")
    log.info(
        "workflow reconciled",
        extra={"workflow": f"{namespace}/{name}", "revision": rendering.revision, "phase": state.phase},
    )
    return "Applied"


async def refresh_status(ctx: Context, body: Mapping[str, Any]) -> bool:
    """Rollout readiness and the merged run summary; at most one status write, only on change.

    Returns True when what serves the workflow has drifted from its status (its Deployment
    deleted, or pointing at another revision): the caller then reconciles it again.
    """
    namespace, name, _, generation = _identity(body)
    status = body.get("status") or {}
    revision = status.get("revision")
    if not revision:
        return False
    deployment = await ctx.kube.get("apps/v1", "Deployment", namespace, name)
    state = rollout_state(deployment, revision=revision)
    new_status: dict[str, Any] = {"replicas": _replicas(state)}
    blocked = _ready(status).get("reason") in BLOCKING_REASONS
    if not blocked and status.get("observedGeneration") == generation:
        wanted: list[Condition] = rollout_conditions(
            state,
            revision=revision,
            version=str(status.get("version") or ""),
            endpoint=str(status.get("endpoint")),
        )
        new_status["conditions"] = merge_conditions(
            status.get("conditions"), wanted, generation=generation, now=ctx.clock()
        )

    targets = await ctx.resolver(ctx.kube, namespace, name)
    readings, problems = await read_pods(ctx.http, targets, workflow=name)
    previous = Ledger.from_status(status.get("runs"))
    stamp = ctx.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    ledger = update_ledger(previous, readings, now=stamp)
    runs = _without_nulls(run_status(ledger))
    runs["scrapeProblems"] = problems[:5]
    if _without_seen(runs) != _without_seen(status.get("runs")):
        new_status["runs"] = runs
    await _write_status(ctx, body, new_status, cause="refresh")
    template = (((deployment or {}).get("spec") or {}).get("template") or {}).get("metadata") or {}
    drifted = deployment is None or (template.get("labels") or {}).get(LABEL_REVISION) != revision
    return drifted and not blocked and status.get("observedGeneration") == generation


def _without_nulls(value: Any) -> Any:
    """A merge patch deletes null fields, so a status holding nulls would never compare equal
    to what was written, and every refresh would write again."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _without_seen(runs: Any) -> Any:
    """The ledger's sighting times change every refresh; alone they are no reason to write."""
    if not isinstance(runs, Mapping):
        return runs
    ledger = dict(runs.get("ledger") or {})
    ledger["pods"] = {
        k: {kk: vv for kk, vv in v.items() if kk != "seen"} for k, v in (ledger.get("pods") or {}).items()
    }
    return {**runs, "ledger": ledger}
