from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from baton_operator.crds import policy_crd, render_all, workflow_crd

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _schema(crd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key in ("properties",):
            for name, child in (node.get(key) or {}).items():
                found += _walk(child, f"{path}.{name}")
        if isinstance(node.get("items"), dict):
            found += _walk(node["items"], f"{path}[]")
        if isinstance(node.get("additionalProperties"), dict):
            found += _walk(node["additionalProperties"], f"{path}{{}}")
    return found


def test_the_committed_crds_are_exactly_what_the_models_generate() -> None:
    for name, text in render_all().items():
        committed = ROOT / "crds" / name
        assert committed.read_text() == text, (
            f"crds/{name} is stale: run `python -m baton_operator.crds crds/`"
        )


@pytest.mark.parametrize("crd", [workflow_crd(), policy_crd()], ids=["workflow", "policy"])
def test_schemas_are_structural(crd: dict[str, Any]) -> None:
    for path, node in _walk(_schema(crd)):
        assert not {"$ref", "anyOf", "const"} & node.keys(), path
        assert node.get("additionalProperties") is not False, path
        if "properties" in node or node.get("x-kubernetes-preserve-unknown-fields"):
            assert node.get("type") == "object", path
        else:
            assert "type" in node, f"{path} has no type"


def test_the_workflow_document_is_preserved_and_the_status_is_a_subresource() -> None:
    crd = workflow_crd()
    spec = _schema(crd)["properties"]["spec"]
    assert spec["properties"]["workflow"]["x-kubernetes-preserve-unknown-fields"] is True
    assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}
    columns = [
        c["name"] for c in crd["spec"]["versions"][0]["additionalPrinterColumns"] if not c.get("priority")
    ]
    assert columns == ["Version", "Ready", "Endpoint", "Runs", "Failures", "Age"]
    assert crd["spec"]["names"]["shortNames"] == ["bwf"]


def test_nested_defaults_apply_as_the_models_default_them() -> None:
    spec = _schema(workflow_crd())["properties"]["spec"]["properties"]
    assert spec["runtime"]["default"] == {}
    assert spec["runtime"]["properties"]["replicas"]["default"] == 1
    assert spec["history"]["properties"]["limit"]["default"] == 5
    assert spec["endpoint"]["properties"]["method"]["default"] == "POST"


def test_cel_rules_cover_what_the_models_check_in_code() -> None:
    rules = {
        path: [r["rule"] for r in node.get("x-kubernetes-validations", [])]
        for path, node in _walk(_schema(workflow_crd()))
    }
    assert any("matches" in r for r in rules[".spec.endpoint"])
    assert rules[".spec.runtime.autoscaling"] == ["self.minReplicas <= self.maxReplicas"]
    assert rules[".spec.policies"]
    assert any("metadata.name" in r for r in rules[""])


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_examples_fit_the_crd_schema(example: Path) -> None:
    (manifest,) = [d for d in yaml.safe_load_all(example.read_text()) if d and d.get("kind") == "Workflow"]
    schema = _schema(workflow_crd())
    # jsonschema reads the OpenAPI subset the CRD uses; the apiserver's own check runs in the plane tier.
    jsonschema.Draft4Validator(schema).validate(manifest)


def test_the_chart_ships_the_same_crds() -> None:
    for name, text in render_all().items():
        assert (ROOT / "charts" / "baton" / "crds" / name).read_text() == text, (
            f"charts/baton/crds/{name} is stale"
        )
