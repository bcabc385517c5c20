"""helm from the registry works: lint, template, and an install into the real apiserver."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from tests.plane.kube import KubePlane

pytestmark = pytest.mark.plane

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\ndescription: A chart the test writes\nversion: 0.1.0\n"
    "appVersion: '1.0'\n",
    "values.yaml": "greeting: hello\nreplicas: 1\n",
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n"
        "  labels:\n    app.kubernetes.io/instance: {{ .Release.Name }}\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n"
    ),
}


def _chart(root: Path, files: dict[str, str]) -> Path:
    chart = root / "tiny"
    for rel, text in files.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    return chart


def _helm(helm: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, timeout=120, env=env)


def test_helm_lint_passes_a_good_chart_and_names_the_broken_template(helm_bin: Path, tmp_path: Path) -> None:
    good = _helm(helm_bin, "lint", str(_chart(tmp_path / "good", CHART)))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in good.stdout

    broken = dict(CHART)
    broken["templates/broken.yaml"] = "kind: ConfigMap\ndata: {{ .Values.greeting | nosuchfunc }}\n"
    bad = _helm(helm_bin, "lint", str(_chart(tmp_path / "bad", broken)))
    assert bad.returncode != 0
    assert "broken.yaml" in bad.stdout + bad.stderr
    assert "nosuchfunc" in bad.stdout + bad.stderr


def test_helm_template_renders_values_and_overrides(helm_bin: Path, tmp_path: Path) -> None:
    chart = _chart(tmp_path, CHART)
    out = _helm(
        helm_bin, "template", "demo", str(chart), "--set", "greeting=hi there", "--kube-version", "1.34.0"
    )
    assert out.returncode == 0, out.stderr
    (doc,) = [d for d in yaml.safe_load_all(out.stdout) if d]
    assert doc["metadata"]["name"] == "demo-greeting"
    assert doc["data"] == {"greeting": "hi there", "replicas": "1"}


def test_helm_reports_its_pinned_version(helm_bin: Path) -> None:
    from tests.plane._build import HELM_VERSION

    out = _helm(helm_bin, "version", "--short")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(HELM_VERSION)


def test_helm_installs_a_chart_into_the_real_apiserver(
    helm_bin: Path, kube_plane: KubePlane, tmp_path: Path
) -> None:
    chart = _chart(tmp_path, CHART)
    ns = f"helm-{uuid.uuid4().hex[:8]}"
    env = {
        **kube_plane.env(),
        "HELM_CACHE_HOME": str(tmp_path / "cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "cfg"),
        "HELM_DATA_HOME": str(tmp_path / "data"),
    }
    try:
        out = _helm(
            helm_bin,
            "install",
            "demo",
            str(chart),
            "-n",
            ns,
            "--create-namespace",
            "--set",
            "greeting=installed",
            env=env,
        )
        assert out.returncode == 0, out.stderr
        got = kube_plane.kubectl(
            "get", "configmap", "demo-greeting", "-n", ns, "-o", "jsonpath={.data.greeting}"
        )
        assert got.stdout == "installed"
        listed = _helm(helm_bin, "list", "-n", ns, "-o", "yaml", env=env)
        assert [r["name"] for r in yaml.safe_load(listed.stdout)] == ["demo"]
    finally:
        kube_plane.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found", check=False)
