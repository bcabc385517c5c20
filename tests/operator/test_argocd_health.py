"""The Argo CD health rule in examples/gitops reads the conditions the operator writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton_operator.conditions import merge_conditions
from baton_operator.decide import RolloutState, blocked_conditions, rollout_conditions

lupa = pytest.importorskip("lupa")

RULE = yaml.safe_load(
    (
        Path(__file__).resolve().parents[2] / "examples" / "gitops" / "argocd" / "argocd-cm-health.yaml"
    ).read_text()
)["data"]["resource.customizations.health.baton.dev_Workflow"]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def health(obj: dict[str, Any]) -> tuple[str, str]:
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    check = lua.execute(f"return function(obj)\n{RULE}\nend")
    result = check(lua.table_from(obj, recursive=True))
    return str(result["status"]), str(result["message"])


def workflow(conditions: list[Any], *, observed: int = 2, generation: int = 2) -> dict[str, Any]:
    return {
        "metadata": {"generation": generation},
        "status": {
            "observedGeneration": observed,
            "conditions": merge_conditions(None, conditions, generation=observed, now=NOW),
        },
    }


def test_a_serving_workflow_is_healthy() -> None:
    state = RolloutState("complete", 2, 2, 2, 2, "2/2 replicas available")
    status, message = health(
        workflow(rollout_conditions(state, revision="r", version="1", endpoint="http://e"))
    )
    assert status == "Healthy"
    assert "http://e" in message


def test_a_rollout_in_progress_or_unobserved_generation_is_progressing() -> None:
    state = RolloutState("progressing", 2, 1, 1, 1, "1/2 replicas updated")
    conditions = rollout_conditions(state, revision="r", version="1", endpoint="http://e")
    assert health(workflow(conditions))[0] == "Progressing"
    done = rollout_conditions(
        RolloutState("complete", 1, 1, 1, 1, ""), revision="r", version="1", endpoint="e"
    )
    assert health(workflow(done, observed=1, generation=2))[0] == "Progressing"
    assert health({"metadata": {"generation": 1}})[0] == "Progressing"


def test_an_invalid_definition_is_degraded_with_its_paths() -> None:
    conditions = blocked_conditions(
        "InvalidDefinition", "spec.workflow.do[0]: bad", generation=2, serving="r1"
    )
    status, message = health(workflow(conditions))
    assert status == "Degraded"
    assert "spec.workflow.do[0]: bad" in message
