"""Decisions about a Workflow's status: its conditions, rollout state and revision history.

Plain functions of what was observed, so every rule here is tested without a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from baton_operator.conditions import Condition
from baton_operator.naming import LABEL_REVISION, configmap_name

__all__ = [
    "RolloutState",
    "blocked_conditions",
    "record_revision",
    "rollout_conditions",
    "rollout_state",
    "stale_configmaps",
]

Phase = Literal["complete", "progressing", "stuck"]


@dataclass(frozen=True, slots=True)
class RolloutState:
    phase: Phase
    desired: int
    updated: int
    ready: int
    available: int
    message: str


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def rollout_state(deployment: Mapping[str, Any] | None, *, revision: str) -> RolloutState:
    """Where the Deployment of ``revision`` stands, read the way ``kubectl rollout status`` does."""
    if deployment is None:
        return RolloutState("progressing", 0, 0, 0, 0, "the runtime Deployment does not exist yet")
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    metadata = deployment.get("metadata") or {}
    desired = spec.get("replicas", 1)
    desired = desired if isinstance(desired, int) else 1
    updated, ready = _int(status.get("updatedReplicas")), _int(status.get("readyReplicas"))
    available, total = _int(status.get("availableReplicas")), _int(status.get("replicas"))
    template_revision = (((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}).get(
        LABEL_REVISION
    )
    counts = dict(desired=desired, updated=updated, ready=ready, available=available)
    if template_revision != revision:
        return RolloutState("progressing", **counts, message=f"revision {revision} is not applied yet")
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return RolloutState(
                "stuck",
                **counts,
                message=f"revision {revision} exceeded its progress deadline: {condition.get('message', '')}",
            )
    if _int(status.get("observedGeneration")) < _int(metadata.get("generation")):
        return RolloutState("progressing", **counts, message="the Deployment controller has not seen it yet")
    if updated < desired:
        return RolloutState("progressing", **counts, message=f"{updated}/{desired} replicas updated")
    if total > updated:
        return RolloutState("progressing", **counts, message=f"{total - updated} old replicas terminating")
    if available < desired:
        return RolloutState("progressing", **counts, message=f"{available}/{desired} replicas available")
    return RolloutState("complete", **counts, message=f"{available}/{desired} replicas available")


def rollout_conditions(state: RolloutState, *, revision: str, version: str, endpoint: str) -> list[Condition]:
    serving = f"revision {revision} (version {version or 'unversioned'})"
    if state.phase == "complete":
        return [
            Condition("Ready", "True", "Serving", f"{serving} serves {endpoint}; {state.message}"),
            Condition("Progressing", "False", "RolloutComplete", f"{serving} is rolled out"),
            Condition("Degraded", "False", "AsExpected", "no problem found"),
            Condition("Reconciling", "False", "RolloutComplete", f"{serving} is rolled out"),
            Condition("Stalled", "False", "AsExpected", "no problem found"),
        ]
    if state.phase == "stuck":
        hint = "see `kubectl describe deployment` and the runtime pods' events and logs"
        return [
            Condition("Ready", "False", "RolloutStuck", f"{state.message}; {hint}"),
            Condition("Progressing", "False", "ProgressDeadlineExceeded", state.message),
            Condition("Degraded", "True", "RolloutStuck", f"{state.message}; {hint}"),
            Condition("Reconciling", "False", "ProgressDeadlineExceeded", state.message),
            Condition("Stalled", "True", "RolloutStuck", state.message),
        ]
    message = f"rolling out {serving}: {state.message}"
    return [
        Condition("Ready", "False", "RollingOut", message),
        Condition("Progressing", "True", "RollingOut", message),
        Condition("Degraded", "False", "AsExpected", "no problem found"),
        Condition("Reconciling", "True", "RollingOut", message),
        Condition("Stalled", "False", "AsExpected", "no problem found"),
    ]


def blocked_conditions(reason: str, problem: str, *, generation: int, serving: str | None) -> list[Condition]:
    """A generation that cannot be deployed (``InvalidDefinition``, ``PolicyNotFound``).

    Nothing was changed in the cluster: the message says which revision still serves, so a
    person knows the outage is avoided and what to fix.
    """
    keeps = f"revision {serving} keeps serving" if serving else "nothing is deployed until this is fixed"
    message = f"generation {generation} is not deployed: {problem}; {keeps}"
    return [
        Condition("Ready", "False", reason, message),
        Condition("Progressing", "False", reason, message),
        Condition("Degraded", "True" if serving else "False", reason, message),
        Condition("Reconciling", "False", reason, message),
        Condition("Stalled", "True", reason, message),
    ]


def record_revision(
    history: Sequence[Mapping[str, Any]] | None,
    *,
    workflow: str,
    revision: str,
    version: str,
    generation: int,
    now: datetime,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first. Re-deploying a revision in the list (a rollback) moves it to the front."""
    entries = [dict(e) for e in history or () if isinstance(e, Mapping)]
    current = next((e for e in entries if e.get("revision") == revision), None)
    if current is not None and entries[0] is current:
        current["generation"] = generation
        return entries[:limit]
    entries = [e for e in entries if e.get("revision") != revision]
    entry = {
        "revision": revision,
        "version": version,
        "configMap": configmap_name(workflow, revision),
        "generation": generation,
        "deployedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return [entry, *entries][:limit]


def stale_configmaps(
    configmaps: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Rendered ConfigMaps no longer in the history: the only ones the operator deletes."""
    kept = {e.get("configMap") for e in history}
    names = [str((c.get("metadata") or {}).get("name")) for c in configmaps]
    return sorted(n for n in names if n not in kept)
