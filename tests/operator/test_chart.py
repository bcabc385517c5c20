"""The chart lints clean and grants the operator only what it uses."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "baton"
MODES = {
    "cluster": [],
    "namespaces": ["--set", "watch.mode=namespaces", "--set", "watch.namespaces={shop,payments}"],
}


def helm(helm_bin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm_bin), *args], capture_output=True, text=True, timeout=60)


def rendered(helm_bin: Path, *values: str) -> list[dict[str, Any]]:
    out = helm(helm_bin, "template", "baton", str(CHART), "-n", "baton-system", *values)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.mark.plane
@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_chart_lints_clean(helm_bin: Path, mode: str) -> None:
    result = helm(helm_bin, "lint", "--strict", str(CHART), *MODES[mode], "--set", "jaeger.enabled=true")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.plane
def test_namespaced_mode_grants_workload_rights_only_in_the_listed_namespaces(helm_bin: Path) -> None:
    docs = rendered(helm_bin, *MODES["namespaces"])
    roles = {
        (d["kind"], d["metadata"].get("namespace")) for d in docs if d["kind"] in ("Role", "ClusterRole")
    }
    assert ("Role", "shop") in roles
    assert ("Role", "payments") in roles
    (cluster_role,) = [d for d in docs if d["kind"] == "ClusterRole"]
    assert {r for rule in cluster_role["rules"] for r in rule["verbs"]} == {"list", "watch"}


@pytest.mark.plane
@pytest.mark.parametrize("mode", sorted(MODES))
def test_rbac_has_no_wildcards_no_secret_access_and_a_lease_bound_by_name(helm_bin: Path, mode: str) -> None:
    docs = rendered(helm_bin, *MODES[mode])
    rules = [rule for d in docs if d["kind"] in ("Role", "ClusterRole") for rule in d["rules"]]
    for rule in rules:
        assert "*" not in rule["verbs"], rule
        assert "*" not in rule["resources"], rule
        assert "secrets" not in rule["resources"], rule
    lease_rules = [r for r in rules if "leases" in r["resources"]]
    assert {tuple(r.get("resourceNames", ())) for r in lease_rules if "update" in r["verbs"]} == {
        ("baton-leader",)
    }


@pytest.mark.plane
def test_the_operator_points_runtime_pods_at_the_bundled_jaeger_when_enabled(helm_bin: Path) -> None:
    docs = rendered(helm_bin, "--set", "jaeger.enabled=true")
    (operator,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "baton-operator"]
    env = {e["name"]: e.get("value") for e in operator["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["BATON_OTLP_ENDPOINT"] == "http://baton-jaeger.baton-system.svc:4318"
    assert env["BATON_LEASE_NAME"] == "baton-leader"
