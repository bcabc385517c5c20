"""Suite-wide fixtures: the real Kubernetes/Jaeger test plane (documented in tests/plane/README.md)."""

from __future__ import annotations

import pytest

from tests.plane.fixtures import PLANE_FIXTURES, helm_bin, jaeger, kube_namespace, kube_plane, kubectl_bin

__all__ = ["helm_bin", "jaeger", "kube_namespace", "kube_plane", "kubectl_bin"]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Runs before `-m` deselection, so `-m "not plane"` leaves out every test that needs the plane
    # even if its author forgot the marker.
    for item in items:
        if PLANE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.plane)
