"""Session fixtures for tests that need the real plane; registered by tests/conftest.py.

Each starts on first request only, so a run that selects no `plane` test starts nothing. A part
that cannot be had skips its tests with the build's reason; a part that was built but does not
start is an error (with the path of its logs), never a silent pass.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plane import _build
from tests.plane._procs import StartupError
from tests.plane.jaeger import Jaeger, LocalJaeger
from tests.plane.kube import KubePlane, LocalKubePlane

__all__ = ["PLANE_FIXTURES", "helm_bin", "jaeger", "kube_namespace", "kube_plane", "kubectl_bin"]

# A test requesting any of these is a plane test, whether or not it was marked so by hand.
PLANE_FIXTURES = frozenset({"kube_plane", "kube_namespace", "jaeger", "helm_bin", "kubectl_bin"})


def _report(request: pytest.FixtureRequest, line: str) -> None:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


def _teardown(request: pytest.FixtureRequest, what: str, workdir: Path, dead: list[str]) -> None:
    failed = request.session.testsfailed
    if dead:
        _report(request, f"[plane] {what} components died during the session: {'; '.join(dead)}")
    if failed or dead:
        _report(request, f"[plane] {what} logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def kube_plane(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KubePlane]:
    """A real control plane (or the cluster KUBECONFIG points at); see tests/plane/README.md."""
    workdir = tmp_path_factory.mktemp("kube-plane")
    existing = os.environ.get("KUBECONFIG")
    if existing:
        try:
            yield KubePlane.existing(Path(existing), workdir)
        except StartupError as exc:
            pytest.fail(str(exc), pytrace=False)
        return
    try:
        local = LocalKubePlane(workdir)
    except _build.PartUnavailable as exc:
        pytest.skip(f"Kubernetes test plane unavailable: {exc}")
    try:
        plane = local.start()
    except StartupError as exc:
        pytest.fail(f"Kubernetes test plane did not start: {exc}\n(logs kept in {workdir})", pytrace=False)
    _report(request, f"[plane] kube-apiserver {plane.api_url} ready in {plane.startup_seconds['total']:.1f}s")
    try:
        yield plane
    finally:
        dead = local.dead()
        local.stop()
        _teardown(request, "kube", workdir, dead)


@pytest.fixture
def kube_namespace(kube_plane: KubePlane) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting for finalization)."""
    from kubernetes import client

    name = f"t-{uuid.uuid4().hex[:10]}"
    with kube_plane.api_client() as api:
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        try:
            yield name
        finally:
            core.delete_namespace(name)


@pytest.fixture(scope="session")
def jaeger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jaeger]:
    """A Jaeger v2 with in-memory storage (or the one BATON_JAEGER_QUERY_URL names)."""
    existing = os.environ.get("BATON_JAEGER_QUERY_URL")
    if existing:
        yield Jaeger.existing(existing)
        return
    workdir = tmp_path_factory.mktemp("jaeger")
    try:
        local = LocalJaeger(workdir)
    except _build.PartUnavailable as exc:
        pytest.skip(f"Jaeger unavailable: {exc}")
    try:
        found = local.start()
    except StartupError as exc:
        pytest.fail(f"Jaeger did not start: {exc}\n(logs kept in {workdir})", pytrace=False)
    try:
        yield found
    finally:
        dead = local.dead()
        local.stop()
        _teardown(request, "jaeger", workdir, dead)


def _binary(part: str, name: str) -> Path:
    try:
        return _build.locate(part, name)
    except _build.PartUnavailable as exc:
        pytest.skip(f"{name} unavailable: {exc}")


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    """Path of the helm binary built from the registry (no cluster needed to use it)."""
    return _binary("helm", "helm")


@pytest.fixture(scope="session")
def kubectl_bin() -> Path:
    """Path of the kubectl binary built with the control plane."""
    return _binary("kubernetes", "kubectl")
