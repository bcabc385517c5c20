"""The GitOps example builds with kustomize and every Workflow in it deploys."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from baton_operator.crds import policy_crd, workflow_crd
from baton_operator.validation import validate_policy, validate_workflow

GITOPS = Path(__file__).resolve().parents[2] / "examples" / "gitops"


def build(kubectl_bin: Path, overlay: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(kubectl_bin), "kustomize", str(overlay)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _schema(crd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


@pytest.mark.plane
@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_overlay_builds_into_resources_the_operator_deploys(kubectl_bin: Path, overlay: str) -> None:
    resources = build(kubectl_bin, GITOPS / "overlays" / overlay)
    assert sorted(r["kind"] for r in resources) == ["Policy", "Workflow"]
    for resource in resources:
        assert resource["metadata"]["namespace"] == f"storefront-{overlay}"
        if resource["kind"] == "Workflow":
            jsonschema.Draft4Validator(_schema(workflow_crd())).validate(resource)
            verdict = validate_workflow(resource)
            assert verdict.valid, verdict.findings
        else:
            jsonschema.Draft4Validator(_schema(policy_crd())).validate(resource)
            assert validate_policy(resource)[0] is not None


@pytest.mark.plane
def test_switching_on_the_prod_canary_as_documented_gives_a_valid_second_version(
    kubectl_bin: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "gitops"
    shutil.copytree(GITOPS, tree)
    kustomization = tree / "overlays" / "prod" / "kustomization.yaml"
    text = kustomization.read_text()
    assert "  # - path: canary.yaml" in text
    kustomization.write_text(text.replace("  # - path: canary.yaml", "  - path: canary.yaml"))
    (workflow,) = [r for r in build(kubectl_bin, tree / "overlays" / "prod") if r["kind"] == "Workflow"]
    verdict = validate_workflow(workflow)
    assert verdict.valid, verdict.findings
    assert workflow["spec"]["rollout"]["canary"]["weight"] == 10
    assert workflow["spec"]["runtime"]["autoscaling"]["minReplicas"] == 3
