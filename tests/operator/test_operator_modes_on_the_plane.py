"""The chart's namespace-scoped mode, leader election between two operator replicas, the
operator's own metrics, and a steady state that writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.operator.test_operator_on_the_plane import (
    GROUP,
    ROOT,
    VERSION,
    Operator,
    free_port,
    greet,
    wait_for,
)
from tests.plane.kube import KubePlane

pytestmark = [pytest.mark.plane, pytest.mark.slow]


class Setup:
    def __init__(
        self, plane: KubePlane, api: Any, namespace: str, release: str, release_namespace: str
    ) -> None:
        self.plane, self.api, self.namespace = plane, api, namespace
        self.release, self.release_namespace = release, release_namespace

    def lease_holder(self) -> str | None:
        from kubernetes import client

        lease = client.CoordinationV1Api(self.api).read_namespaced_lease(
            f"{self.release}-leader", self.release_namespace
        )
        holder: str | None = lease.spec.holder_identity
        return holder

    def workflow(self, name: str = "greet") -> dict[str, Any]:
        from kubernetes import client

        found: dict[str, Any] = client.CustomObjectsApi(self.api).get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "workflows", name
        )
        return found

    def ready(self) -> dict[str, Any]:
        conditions = (self.workflow().get("status") or {}).get("conditions") or ()
        return next((c for c in conditions if c["type"] == "Ready"), {})

    def simulate_rollout(self) -> None:
        from kubernetes import client

        apps = client.AppsV1Api(self.api)
        deployment = apps.read_namespaced_deployment("greet", self.namespace)
        replicas = deployment.spec.replicas
        status = {
            "observedGeneration": deployment.metadata.generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        }
        apps.patch_namespaced_deployment_status("greet", self.namespace, {"status": status})


@pytest.fixture(scope="module")
def setup(
    kube_plane: KubePlane, helm_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Setup, Path]]:
    from kubernetes import client

    workdir = tmp_path_factory.mktemp("operator-modes")
    suffix = uuid.uuid4().hex[:6]
    release, release_namespace, namespace = f"baton-{suffix}", f"baton-ops-{suffix}", f"team-{suffix}"
    with kube_plane.api_client() as api:
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        install = subprocess.run(
            [
                str(helm_bin),
                "install",
                release,
                str(ROOT / "charts" / "baton"),
                "-n",
                release_namespace,
                "--create-namespace",
                "--set",
                "watch.mode=namespaces",
                "--set",
                f"watch.namespaces={{{namespace}}}",
            ],
            env=kube_plane.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert install.returncode == 0, install.stderr
        try:
            yield Setup(kube_plane, api, namespace, release, release_namespace), workdir
        finally:
            core.delete_namespace(namespace)
            subprocess.run(
                [str(helm_bin), "uninstall", release, "-n", release_namespace],
                env=kube_plane.env(),
                capture_output=True,
                timeout=60,
            )


def operator(
    setup: Setup,
    workdir: Path,
    identity: str,
    *,
    metrics_port: int = 0,
    health_port: int = 0,
    account: str | None = None,
) -> Operator:
    token = setup.plane.service_account_token(setup.release_namespace, account or f"{setup.release}-operator")
    kubeconfig = setup.plane.kubeconfig_for_token(token, workdir / f"{identity}.kubeconfig")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "BATON_NAMESPACES": setup.namespace,
        "BATON_STATUS_INTERVAL": "1",
        "BATON_LEASE_NAME": f"{setup.release}-leader",
        "BATON_LEASE_NAMESPACE": setup.release_namespace,
        "BATON_IDENTITY": identity,
        "BATON_METRICS_PORT": str(metrics_port),
        "BATON_HEALTH_PORT": str(health_port),
    }
    env.pop("KUBECONFIG", None)
    return Operator(kubeconfig, env, workdir / f"{identity}.log")


def _forbidden(text: str) -> list[str]:
    return [line for line in text.splitlines() if "forbidden" in line.lower()]


def test_two_replicas_elect_one_leader_and_hand_over_on_a_clean_stop(setup: tuple[Setup, Path]) -> None:
    world, workdir = setup
    metrics_port = free_port()
    first = operator(world, workdir, "replica-a", metrics_port=metrics_port)
    health_port = free_port()
    second = operator(world, workdir, "replica-b", health_port=health_port)
    first.start()
    try:
        wait_for("replica-a to lead", lambda: world.lease_holder() == "replica-a" or None)
        second.start()
        wait_for(
            "replica-b to wait for the Lease", lambda: "waiting for the leader Lease" in second.text() or None
        )
        # A standby replica is alive: its liveness probe must not restart it while it waits.
        with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/healthz", timeout=5) as response:
            assert response.status == 200

        from kubernetes import client

        body = greet()
        body["metadata"]["namespace"] = world.namespace
        client.CustomObjectsApi(world.api).create_namespaced_custom_object(
            GROUP, VERSION, world.namespace, "workflows", body
        )
        wait_for("a revision", lambda: (world.workflow().get("status") or {}).get("revision"))
        assert "workflow reconciled" in first.text()
        assert "workflow reconciled" not in second.text()

        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'baton_operator_reconciles_total{result="Applied"}' in metrics
        assert "baton_operator_leader 1.0" in metrics

        # Steady state: once Ready, refreshes every second write nothing.
        world.simulate_rollout()
        wait_for("Ready", lambda: world.ready().get("status") == "True" or None)
        version = world.workflow()["metadata"]["resourceVersion"]
        time.sleep(4)
        assert world.workflow()["metadata"]["resourceVersion"] == version

        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'code="403"' not in metrics
        assert 'code="200"' in metrics
        assert first.stop(signal.SIGTERM) == 0
        wait_for("replica-b to take over", lambda: world.lease_holder() == "replica-b" or None, timeout=20)
        updated = world.workflow()
        updated["spec"]["workflow"]["document"]["version"] = "2.0.0"
        client.CustomObjectsApi(world.api).replace_namespaced_custom_object(
            GROUP, VERSION, world.namespace, "workflows", "greet", updated
        )
        wait_for(
            "replica-b to render 2.0.0",
            lambda: (world.workflow().get("status") or {}).get("version") == "2.0.0" or None,
        )
        assert "workflow reconciled" in second.text()
    finally:
        first.stop()
        second.stop()
    for replica in (first, second):
        assert not _forbidden(replica.text()), "\n".join(_forbidden(replica.text())[:10])
        assert "Traceback" not in replica.text(), replica.text()[-3000:]


def test_the_forbidden_check_sees_a_token_without_rbac(setup: tuple[Setup, Path]) -> None:
    """The check the other tests rely on can fail: an account with no bindings is refused."""
    from kubernetes import client

    world, workdir = setup
    client.CoreV1Api(world.api).create_namespaced_service_account(
        world.release_namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="nobody"))
    )
    stranger = operator(world, workdir, "stranger", account="nobody")
    stranger.start()
    try:
        wait_for("a forbidden answer in the log", lambda: _forbidden(stranger.text()) or None, timeout=20)
    finally:
        assert stranger.stop(signal.SIGTERM) == 0
