"""Reconcile's decisions on an in-memory API (fast tier; the plane tier runs it on a real one)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from baton_operator.config import OperatorConfig
from baton_operator.reconcile import Context, reconcile_workflow, refresh_status
from baton_operator.status import WorkflowStatus
from tests.operator._fixtures import policy_body, workflow_body


class FakeKube:
    """Objects by (kind, namespace, name); apply merges like a fresh server-side apply."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str, str]] = []

    def _key(self, kind: str, namespace: str | None, name: str) -> tuple[str, str, str]:
        return (kind, namespace or "", name)

    def put(self, obj: dict[str, Any]) -> None:
        self.objects[self._key(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])] = obj

    async def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        key = self._key(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if self.objects.get(key, {}).get("spec") != obj.get("spec") or key not in self.objects:
            self.writes.append(("apply", *key[:1], key[2]))
        merged = {**self.objects.get(key, {}), **copy.deepcopy(obj)}
        merged["metadata"] = {**obj["metadata"], "generation": 1}
        self.objects[key] = merged
        return merged

    async def get(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        found = self.objects.get(self._key(kind, namespace, name))
        return copy.deepcopy(found) if found else None

    async def list(
        self, api_version: str, kind: str, namespace: str | None, *, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        key, _, value = (label_selector or "=").partition("=")
        return [
            copy.deepcopy(o)
            for (k, ns, _), o in self.objects.items()
            if k == kind
            and ns == namespace
            and (not key or o["metadata"].get("labels", {}).get(key) == value)
        ]

    async def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        self.writes.append(("delete", kind, name))
        return self.objects.pop(self._key(kind, namespace, name), None) is not None

    async def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, status: dict[str, Any]
    ) -> dict[str, Any]:
        self.writes.append(("status", kind, name))
        obj = self.objects[self._key(kind, namespace, name)]
        current = obj.setdefault("status", {})
        for field, value in status.items():
            if value is None:
                current.pop(field, None)
            else:
                current[field] = copy.deepcopy(value)
        return copy.deepcopy(obj)

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.writes.append(("create", obj["kind"], obj.get("reason", "")))
        return obj


@pytest.fixture
async def world() -> Any:
    kube = FakeKube()
    async with aiohttp.ClientSession() as http:

        async def no_targets(*_: Any) -> list[Any]:
            return []

        ctx = Context(
            kube=kube,  # type: ignore[arg-type]
            config=OperatorConfig(),
            http=http,
            resolver=no_targets,
            clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        )
        yield ctx, kube


def workflow_in(kube: FakeKube, body: dict[str, Any]) -> dict[str, Any]:
    existing = kube.objects.get(("Workflow", "shop", "greet"))
    if existing is not None:
        body = {**body, "status": existing.get("status", {})}
    kube.put(body)
    return copy.deepcopy(body)


async def test_a_valid_workflow_is_rendered_and_its_status_validates_against_the_crd_model(
    world: Any,
) -> None:
    ctx, kube = world
    assert await reconcile_workflow(ctx, workflow_in(kube, workflow_body()), policies={}) == "Applied"
    kinds = sorted(k for (k, _, _) in kube.objects)
    assert kinds == ["ConfigMap", "Deployment", "Service", "ServiceAccount", "Workflow"]
    status = kube.objects[("Workflow", "shop", "greet")]["status"]
    WorkflowStatus.model_validate(status)
    assert status["history"][0]["revision"] == status["revision"]
    assert {c["type"]: c["status"] for c in status["conditions"]}["Progressing"] == "True"


async def test_reconciling_twice_writes_nothing_the_second_time(world: Any) -> None:
    ctx, kube = world
    await reconcile_workflow(ctx, workflow_in(kube, workflow_body()), policies={})
    kube.writes.clear()
    await reconcile_workflow(ctx, workflow_in(kube, workflow_body()), policies={})
    assert kube.writes == []


async def test_an_invalid_generation_writes_only_its_status_and_one_event(world: Any) -> None:
    ctx, kube = world
    await reconcile_workflow(ctx, workflow_in(kube, workflow_body()), policies={})
    before = {k: copy.deepcopy(v) for k, v in kube.objects.items() if k[0] != "Workflow"}
    broken = workflow_body()
    broken["metadata"]["generation"] = 2
    broken["spec"]["workflow"]["do"] = [{"x": {"set": {}, "then": "nowhere"}}]
    kube.writes.clear()
    assert await reconcile_workflow(ctx, workflow_in(kube, broken), policies={}) == "InvalidDefinition"
    assert await reconcile_workflow(ctx, workflow_in(kube, broken), policies={}) == "InvalidDefinition"
    assert {k: v for k, v in kube.objects.items() if k[0] != "Workflow"} == before
    assert kube.writes == [("create", "Event", "InvalidDefinition"), ("status", "Workflow", "greet")]
    ready = {c["type"]: c for c in kube.objects[("Workflow", "shop", "greet")]["status"]["conditions"]}[
        "Ready"
    ]
    assert ready["reason"] == "InvalidDefinition"
    assert "spec.workflow.do[0].x.then" in ready["message"]


async def test_a_missing_policy_blocks_and_a_present_one_is_rendered_in(world: Any) -> None:
    ctx, kube = world
    body = workflow_body(policies=["callers"])
    assert await reconcile_workflow(ctx, workflow_in(kube, body), policies={}) == "PolicyNotFound"
    assert ("Deployment", "shop", "greet") not in kube.objects
    assert (
        await reconcile_workflow(ctx, workflow_in(kube, body), policies={"callers": policy_body()})
        == "Applied"
    )
    (configmap,) = [o for (k, _, _), o in kube.objects.items() if k == "ConfigMap"]
    assert "policy-callers.yaml" in configmap["data"]


async def test_old_revisions_beyond_the_history_limit_are_pruned(world: Any) -> None:
    ctx, kube = world
    for generation, version in enumerate(["1.0.0", "1.0.1", "1.0.2"], start=1):
        body = workflow_body(history={"limit": 2})
        body["metadata"]["generation"] = generation
        body["spec"]["workflow"]["document"]["version"] = version
        await reconcile_workflow(ctx, workflow_in(kube, body), policies={})
    status = kube.objects[("Workflow", "shop", "greet")]["status"]
    configmaps = sorted(n for (k, _, n) in kube.objects if k == "ConfigMap")
    assert configmaps == sorted(h["configMap"] for h in status["history"])
    assert [h["version"] for h in status["history"]] == ["1.0.2", "1.0.1"]


async def test_an_idle_workflow_is_refreshed_without_writes(world: Any) -> None:
    ctx, kube = world
    await reconcile_workflow(ctx, workflow_in(kube, workflow_body()), policies={})
    assert await refresh_status(ctx, workflow_in(kube, workflow_body())) is False
    kube.writes.clear()
    for _ in range(3):
        assert await refresh_status(ctx, workflow_in(kube, workflow_body())) is False
    assert kube.writes == []


async def test_a_missing_deployment_is_reported_as_drift(world: Any) -> None:
    ctx, kube = world
    await reconcile_workflow(ctx, workflow_in(kube, workflow_body()), policies={})
    del kube.objects[("Deployment", "shop", "greet")]
    assert await refresh_status(ctx, workflow_in(kube, workflow_body())) is True
