"""The operator against a real kube-apiserver, installed with the chart and run under its
ServiceAccount's token, with the runtime served by a local process from what it rendered.

There is no kubelet on the plane: pods never run. Deployment readiness is simulated the way the
Deployment controller and kubelets would report it (a write to the Deployment's status
subresource), and the run summary is read from the local runtime through a test target resolver
(``tests/operator/_local_targets.py``) instead of EndpointSlices.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.plane.jaeger import Jaeger
from tests.plane.kube import KubePlane

pytestmark = [pytest.mark.plane, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION = "baton.dev", "v1alpha1"
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float = 30.0, every: float = 0.25) -> T:
    """Poll until ``probe`` returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except Exception as exc:  # the probe's own errors are part of what we report
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Operator:
    """``python -m baton_operator`` as a child process, under the chart's ServiceAccount."""

    kubeconfig: Path
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    logs: list[str] = field(default_factory=list)

    def start(self) -> None:
        argv = [sys.executable, "-m", "baton_operator", "--kubeconfig", str(self.kubeconfig)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*argv, "--log-format", "json"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        process = self.process
        if process is None:
            return 0
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait(timeout=10)
            raise AssertionError(f"the operator did not stop within {timeout}s of signal {sig}") from None
        finally:
            self.process = None
        return code

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Runtime:
    process: subprocess.Popen[bytes]
    url: str
    pod: str = ""


@dataclass
class World:
    plane: KubePlane
    jaeger: Jaeger
    api: Any
    namespace: str
    release_namespace: str
    operator: Operator
    targets_file: Path
    workdir: Path
    runtimes: list[Runtime] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)

    # -- API helpers -------------------------------------------------------------------------
    def custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api)

    def workflow(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.custom().get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "workflows", name
        )
        return found

    def apply(self, body: dict[str, Any]) -> None:
        plural = "workflows" if body["kind"] == "Workflow" else "policies"
        body = {**body, "metadata": {**body["metadata"], "namespace": self.namespace}}
        custom = self.custom()
        try:
            current = custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, body["metadata"]["name"]
            )
        except Exception:
            custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, body)
            return
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        custom.replace_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, body["metadata"]["name"], body
        )

    def condition(self, name: str, kind: str = "Ready") -> dict[str, Any]:
        status = self.workflow(name).get("status") or {}
        return next((c for c in status.get("conditions") or () if c["type"] == kind), {})

    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    def apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self.api)

    def deployment(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = self.api.sanitize_for_serialization(
            self.apps().read_namespaced_deployment(name, self.namespace)
        )
        return data

    def configmaps(self, workflow: str) -> dict[str, dict[str, Any]]:
        items = (
            self.core()
            .list_namespaced_config_map(self.namespace, label_selector=f"baton.dev/workflow={workflow}")
            .items
        )
        return {i.metadata.name: self.api.sanitize_for_serialization(i) for i in items}

    def simulate_rollout(self, name: str) -> None:
        """What the Deployment controller and kubelets would report once every pod is ready."""
        deployment = self.deployment(name)
        replicas = deployment["spec"].get("replicas", 1)
        status = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        }
        self.apps().patch_namespaced_deployment_status(name, self.namespace, {"status": status})

    # -- the runtime as a local process --------------------------------------------------------
    def serve_rendered(self, workflow: str, *, pod: str | None = None) -> Runtime:
        """Start ``baton serve`` on the files of the ConfigMap the Deployment mounts, with the
        container's environment, as the kubelet would; list it as a ready target named ``pod``."""
        pod_name = pod or f"{workflow}-local-{len(self.runtimes)}"
        deployment = self.deployment(workflow)
        pod = deployment["spec"]["template"]["spec"]
        volume = next(v for v in pod["volumes"] if v["name"] == "workflows")
        configmap = self.core().read_namespaced_config_map(volume["configMap"]["name"], self.namespace)
        folder = self.workdir / f"{workflow}-{uuid.uuid4().hex[:6]}"
        folder.mkdir()
        for key, text in configmap.data.items():
            (folder / key).write_text(text)
        container = pod["containers"][0]
        env = {e["name"]: e.get("value", "") for e in container["env"] if "value" in e}
        env["POD_NAME"] = pod_name
        env = {k: v.replace("$(POD_NAME)", env["POD_NAME"]) for k, v in env.items()}
        port = free_port()
        args = list(container["args"])
        args[args.index(container["args"][1])] = str(folder)
        args[args.index("--host") + 1] = "127.0.0.1"
        args[args.index("--port") + 1] = str(port)
        log = self.workdir / f"{folder.name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", "from baton.cli.main import main; raise SystemExit(main())", *args],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        runtime = Runtime(process, f"http://127.0.0.1:{port}")
        self.runtimes.append(runtime)

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"baton serve exited {process.returncode}: {log.read_text()}")
            with urllib.request.urlopen(f"{runtime.url}/readyz", timeout=2) as response:
                return bool(response.status == 200)

        wait_for("the local runtime to be ready", ready, timeout=30)
        runtime.pod = pod_name
        self.targets[pod_name] = runtime.url
        self._write_targets(workflow)
        return runtime

    def stop_runtime(self, runtime: Runtime, workflow: str) -> None:
        runtime.process.terminate()
        runtime.process.wait(timeout=30)
        self.targets.pop(runtime.pod, None)
        self._write_targets(workflow)

    def _write_targets(self, workflow: str) -> None:
        listed = [{"name": pod, "url": url} for pod, url in sorted(self.targets.items())]
        self.targets_file.write_text(json.dumps({f"{self.namespace}/{workflow}": listed}))


def _main_entry_exists() -> bool:
    return (ROOT / "runtime" / "baton" / "cli" / "main.py").exists()


@pytest.fixture(scope="module")
def world(
    kube_plane: KubePlane, jaeger: Jaeger, helm_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    from kubernetes import client

    workdir = tmp_path_factory.mktemp("operator")
    suffix = uuid.uuid4().hex[:6]
    release = f"baton-{suffix}"
    release_namespace = f"baton-system-{suffix}"
    namespace = f"shop-{suffix}"
    install = subprocess.run(
        [
            str(helm_bin),
            "install",
            release,
            str(ROOT / "charts" / "baton"),
            "--namespace",
            release_namespace,
            "--create-namespace",
            "--set",
            f"otlp.endpoint={jaeger.otlp_http_endpoint}",
        ],
        env=kube_plane.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert install.returncode == 0, f"helm install failed: {install.stderr}"
    with kube_plane.api_client() as api:
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        wait_for(
            "the Workflow CRD to be established",
            lambda: any(
                c.type == "Established" and c.status == "True"
                for c in client.ApiextensionsV1Api(api)
                .read_custom_resource_definition("workflows.baton.dev")
                .status.conditions
                or ()
            ),
        )
        token = kube_plane.service_account_token(release_namespace, f"{release}-operator")
        kubeconfig = kube_plane.kubeconfig_for_token(token, workdir / "operator.kubeconfig")
        targets = workdir / "targets.json"
        targets.write_text("{}")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "BATON_RUNTIME_IMAGE": "ghcr.io/baton-dev/baton-runtime:0.1.0",
            "BATON_OTLP_ENDPOINT": jaeger.otlp_http_endpoint,
            "BATON_STATUS_INTERVAL": "1",
            "BATON_TARGET_RESOLVER": "tests.operator._local_targets:resolve",
            "BATON_TEST_TARGETS_FILE": str(targets),
            "BATON_LEASE_NAME": f"{release}-leader",
            "BATON_LEASE_NAMESPACE": release_namespace,
            "BATON_IDENTITY": "operator-0",
            "BATON_METRICS_PORT": "0",
            "BATON_HEALTH_PORT": "0",
        }
        env.pop("KUBECONFIG", None)
        operator = Operator(kubeconfig, env, workdir / "operator.log")
        operator.start()
        w = World(kube_plane, jaeger, api, namespace, release_namespace, operator, targets, workdir)
        try:
            yield w
        finally:
            for runtime in w.runtimes:
                with contextlib.suppress(ProcessLookupError):
                    runtime.process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    runtime.process.wait(timeout=10)
            operator.stop()
            core.delete_namespace(namespace)
            subprocess.run(
                [str(helm_bin), "uninstall", release, "--namespace", release_namespace],
                env=kube_plane.env(),
                capture_output=True,
                timeout=60,
            )


def greet(version: str = "1.0.0", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "baton.dev/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "greet"},
        "spec": {
            "endpoint": {"path": "/greet"},
            "workflow": {
                "document": {"dsl": "1.0.3", "namespace": "shop", "name": "greet", "version": version},
                "do": [{"hello": {"set": {"greeting": '${ "hello " + .name }'}}}],
            },
            "history": {"limit": 3},
            **spec,
        },
    }


def _invalid(world: World, body: dict[str, Any]) -> str:
    from kubernetes.client import ApiException

    body = {**body, "metadata": {**body["metadata"], "namespace": world.namespace}}
    plural = "workflows" if body["kind"] == "Workflow" else "policies"
    with pytest.raises(ApiException) as caught:
        world.custom().create_namespaced_custom_object(
            GROUP, VERSION, world.namespace, plural, body, field_validation="Strict"
        )
    assert caught.value.status in (400, 422), caught.value.body  # 400: strict decoding of unknown fields
    return str(caught.value.body)


def test_the_apiserver_itself_rejects_objects_that_break_the_schema_and_rules(world: World) -> None:
    bad_path = greet()
    bad_path["spec"]["endpoint"]["path"] = "/a/../b"
    assert "endpoint.path must be an absolute path" in _invalid(world, bad_path)
    bounds = greet(runtime={"autoscaling": {"minReplicas": 5, "maxReplicas": 2}})
    assert "minReplicas must not exceed maxReplicas" in _invalid(world, bounds)
    too_many = greet(runtime={"replicas": 101})
    assert "spec.runtime.replicas" in _invalid(world, too_many)
    typo = greet(replicass=2)
    assert "replicass" in _invalid(world, typo)
    dotted = greet()
    dotted["metadata"]["name"] = "greet.v2"
    assert "DNS label" in _invalid(world, dotted)
    policy_name = greet(policies=["Not_OK"])
    assert "Kubernetes name" in _invalid(world, policy_name)
    no_version = greet()
    del no_version["spec"]["workflow"]["document"]["version"]
    assert "document.version" in _invalid(world, no_version)
    two_schemes = {
        "apiVersion": "baton.dev/v1alpha1",
        "kind": "Policy",
        "metadata": {"name": "both"},
        "spec": {"authentication": {"apiKey": {"secretRef": "k"}, "bearer": {"issuer": "https://i"}}},
    }
    assert "exactly one of bearer or apiKey" in _invalid(world, two_schemes)


def test_a_workflow_gets_its_dependents_with_owner_references_and_conditions(world: World) -> None:
    world.apply(greet())
    status = wait_for(
        "a rendered revision", lambda: world.workflow("greet").get("status", {}).get("revision")
    )
    uid = world.workflow("greet")["metadata"]["uid"]
    cm_name = f"greet-{status}"
    owned = [
        world.core().read_namespaced_config_map(cm_name, world.namespace),
        world.apps().read_namespaced_deployment("greet", world.namespace),
        world.core().read_namespaced_service("greet", world.namespace),
        world.core().read_namespaced_service_account("greet", world.namespace),
    ]
    for obj in owned:
        (ref,) = obj.metadata.owner_references
        assert (ref.kind, ref.name, ref.uid, ref.controller) == ("Workflow", "greet", uid, True)
    assert owned[0].immutable is True
    progressing = wait_for(
        "Progressing=True", lambda: world.condition("greet", "Progressing").get("status") == "True" or None
    )
    assert progressing
    assert world.condition("greet")["status"] == "False"
    world.simulate_rollout("greet")
    ready = wait_for(
        "Ready=True",
        lambda: world.condition("greet") if world.condition("greet").get("status") == "True" else None,
    )
    body = world.workflow("greet")
    assert ready["reason"] == "Serving"
    assert body["status"]["observedGeneration"] == body["metadata"]["generation"]
    assert body["status"]["endpoint"] == f"http://greet.{world.namespace}.svc.cluster.local/greet"
    assert body["status"]["version"] == "1.0.0"
    assert body["status"]["replicas"]["available"] == 1


def test_runs_of_the_rendered_runtime_appear_on_status_and_in_jaeger(world: World) -> None:
    runtime = world.serve_rendered("greet")
    for name in ("ada", "grace", "edsger"):
        request = urllib.request.Request(
            f"{runtime.url}/greet",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["greeting"] == f"hello {name}"
    runs = wait_for(
        "three runs on the Workflow's status",
        lambda: (r := world.workflow("greet").get("status", {}).get("runs")) and r.get("total") == 3 and r,
        timeout=30,
    )
    assert runs["failed"] == 0
    assert runs["p50Ms"] is not None
    trace_id = runs["lastRun"]["traceId"]
    assert trace_id
    trace = world.jaeger.find_trace(
        f"greet.{world.namespace}",
        where=lambda t: str(t["traceID"]).lstrip("0") == str(trace_id).lstrip("0"),
        timeout=30,
    )
    assert trace["spans"]


def call(runtime: Runtime, name: str) -> None:
    request = urllib.request.Request(
        f"{runtime.url}/greet",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def total_runs(world: World) -> int | None:
    runs = world.workflow("greet").get("status", {}).get("runs") or {}
    total: int | None = runs.get("total")
    return total


def test_runs_of_several_replicas_add_up_and_survive_a_replica_restart(world: World) -> None:
    first = world.runtimes[0]
    second = world.serve_rendered("greet")
    call(second, "barbara")
    call(second, "donald")
    wait_for("3 + 2 runs", lambda: total_runs(world) == 5 or None, timeout=30)
    # The first replica's process restarts in the same pod: its counters start again from 0.
    world.stop_runtime(first, "greet")
    restarted = world.serve_rendered("greet", pod=first.pod)
    call(restarted, "ken")
    wait_for("3 + 2 + 1 runs", lambda: total_runs(world) == 6 or None, timeout=30)
    time.sleep(3)  # several more refreshes: nothing counted twice
    assert total_runs(world) == 6
    runs = world.workflow("greet")["status"]["runs"]
    assert set(runs["ledger"]["pods"]) == {first.pod, second.pod}
    assert runs["ledger"]["base"]["total"] == 3


def test_an_update_rolls_out_a_new_revision_and_keeps_history(world: World) -> None:
    before = world.workflow("greet")["status"]["revision"]
    world.apply(greet("1.1.0"))
    after = wait_for(
        "a new revision", lambda: (r := world.workflow("greet")["status"].get("revision")) != before and r
    )
    deployment = world.deployment("greet")
    assert deployment["spec"]["template"]["metadata"]["labels"]["baton.dev/revision"] == after
    history = [h["revision"] for h in world.workflow("greet")["status"]["history"]]
    assert history[:2] == [after, before]
    assert {f"greet-{before}", f"greet-{after}"} <= set(world.configmaps("greet"))
    assert world.condition("greet", "Progressing")["status"] == "True"
    world.simulate_rollout("greet")
    wait_for("Ready again", lambda: world.condition("greet").get("status") == "True" or None)


def test_an_invalid_update_leaves_the_serving_revision_untouched(world: World) -> None:
    from kubernetes import client

    serving = world.workflow("greet")["status"]["revision"]
    deployment_version = world.deployment("greet")["metadata"]["resourceVersion"]
    configmaps = set(world.configmaps("greet"))
    broken = greet("1.2.0")
    broken["spec"]["workflow"]["do"] = [{"hello": {"set": {"a": 1}, "then": "nowhere"}}]
    world.apply(broken)
    ready = wait_for(
        "Ready=False InvalidDefinition",
        lambda: (c := world.condition("greet")).get("reason") == "InvalidDefinition" and c,
    )
    assert ready["status"] == "False"
    assert "spec.workflow.do[0]" in ready["message"]
    assert f"revision {serving} keeps serving" in ready["message"]
    body = world.workflow("greet")
    assert body["status"]["revision"] == serving
    assert body["status"]["observedGeneration"] == body["metadata"]["generation"]
    assert world.deployment("greet")["metadata"]["resourceVersion"] == deployment_version
    assert set(world.configmaps("greet")) == configmaps
    events = client.CoreV1Api(world.api).list_namespaced_event(world.namespace).items
    warnings = [e for e in events if e.reason == "InvalidDefinition" and e.involved_object.name == "greet"]
    assert len(warnings) == 1
    assert "spec.workflow.do[0]" in warnings[0].message


def test_a_missing_policy_blocks_and_a_policy_change_rolls_its_workflows(world: World) -> None:
    world.apply(greet("1.2.0", policies=["callers"]))
    blocked = wait_for(
        "PolicyNotFound", lambda: (c := world.condition("greet")).get("reason") == "PolicyNotFound" and c
    )
    assert "callers" in blocked["message"]
    before = world.workflow("greet")["status"]["revision"]
    world.apply(
        {
            "apiVersion": "baton.dev/v1alpha1",
            "kind": "Policy",
            "metadata": {"name": "callers"},
            "spec": {"rateLimit": {"requestsPerSecond": 50, "burst": 10}},
        }
    )
    with_policy = wait_for(
        "a revision with the policy",
        lambda: (r := world.workflow("greet")["status"].get("revision")) != before and r,
    )
    assert "policy-callers.yaml" in world.configmaps("greet")[f"greet-{with_policy}"]["data"]
    world.apply(
        {
            "apiVersion": "baton.dev/v1alpha1",
            "kind": "Policy",
            "metadata": {"name": "callers"},
            "spec": {"rateLimit": {"requestsPerSecond": 5, "burst": 1}},
        }
    )
    rolled = wait_for(
        "a rollout after the policy change",
        lambda: (r := world.workflow("greet")["status"].get("revision")) != with_policy and r,
    )
    assert world.deployment("greet")["spec"]["template"]["metadata"]["labels"]["baton.dev/revision"] == rolled
    assert len(world.workflow("greet")["status"]["history"]) == 3
    assert len(world.configmaps("greet")) == 3  # history.limit: older revisions pruned


def test_an_operator_restart_in_the_middle_converges_without_duplicates(world: World) -> None:
    world.operator.stop(signal.SIGKILL)
    world.apply(greet("1.3.0", policies=["callers"]))
    world.operator.start()
    new = wait_for(
        "the restarted operator to render 1.3.0",
        lambda: (s := world.workflow("greet")["status"]).get("version") == "1.3.0" and s["revision"],
        timeout=60,
    )
    world.simulate_rollout("greet")
    wait_for(
        "Ready after the restart",
        lambda: world.condition("greet").get("status") == "True" or None,
        timeout=30,
    )
    # Restart again with nothing to do: nothing changes, nothing is duplicated.
    deployment_version = world.deployment("greet")["metadata"]["resourceVersion"]
    world.operator.stop(signal.SIGTERM)
    world.operator.start()
    time.sleep(5)
    assert world.deployment("greet")["metadata"]["resourceVersion"] == deployment_version
    assert len(world.apps().list_namespaced_deployment(world.namespace).items) == 1
    assert len(world.core().list_namespaced_service(world.namespace).items) == 1
    assert [
        sa.metadata.name
        for sa in world.core().list_namespaced_service_account(world.namespace).items
        if sa.metadata.name != "default"
    ] == ["greet"]
    history = [h["revision"] for h in world.workflow("greet")["status"]["history"]]
    assert history[0] == new
    assert len(history) == len(set(history)) == 3
    assert sorted(world.configmaps("greet")) == sorted(f"greet-{r}" for r in history)


def test_a_deleted_runtime_deployment_is_rendered_again(world: World) -> None:
    revision = world.workflow("greet")["status"]["revision"]
    uid = world.deployment("greet")["metadata"]["uid"]
    world.apps().delete_namespaced_deployment("greet", world.namespace)
    again = wait_for(
        "a new Deployment",
        lambda: (d := world.deployment("greet"))["metadata"]["uid"] != uid and d,
        timeout=30,
    )
    assert again["spec"]["template"]["metadata"]["labels"]["baton.dev/revision"] == revision
    assert again["metadata"]["ownerReferences"][0]["name"] == "greet"
    world.simulate_rollout("greet")
    wait_for("Ready again", lambda: world.condition("greet").get("status") == "True" or None)


def test_autoscaling_and_a_disruption_budget_come_and_go_without_a_new_revision(world: World) -> None:
    from kubernetes import client

    revision = world.workflow("greet")["status"]["revision"]
    runtime = {
        "autoscaling": {"minReplicas": 2, "maxReplicas": 5},
        "podDisruptionBudget": {"minAvailable": 1},
    }
    world.apply(greet("1.3.0", policies=["callers"], runtime=runtime))
    autoscaling = client.AutoscalingV2Api(world.api)
    hpa = wait_for(
        "the HorizontalPodAutoscaler",
        lambda: autoscaling.list_namespaced_horizontal_pod_autoscaler(world.namespace).items,
    )[0]
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (2, 5)
    assert hpa.metadata.owner_references[0].name == "greet"
    pdb = client.PolicyV1Api(world.api).read_namespaced_pod_disruption_budget("greet", world.namespace)
    assert pdb.spec.min_available == 1
    assert world.workflow("greet")["status"]["revision"] == revision
    world.apply(greet("1.3.0", policies=["callers"]))
    wait_for(
        "the HPA to be removed",
        lambda: not autoscaling.list_namespaced_horizontal_pod_autoscaler(world.namespace).items,
    )
    wait_for(
        "the PDB to be removed",
        lambda: (
            not client.PolicyV1Api(world.api).list_namespaced_pod_disruption_budget(world.namespace).items
        ),
    )


def test_deleting_a_policy_in_use_stops_changes_but_not_the_serving_revision(world: World) -> None:
    serving = world.workflow("greet")["status"]["revision"]
    world.custom().delete_namespaced_custom_object(GROUP, VERSION, world.namespace, "policies", "callers")
    ready = wait_for(
        "PolicyNotFound", lambda: (c := world.condition("greet")).get("reason") == "PolicyNotFound" and c
    )
    assert f"revision {serving} keeps serving" in ready["message"]
    assert (
        world.deployment("greet")["spec"]["template"]["metadata"]["labels"]["baton.dev/revision"] == serving
    )


def test_a_workflow_never_takes_over_a_deployment_it_does_not_own(world: World) -> None:
    from kubernetes import client

    labels = {"app": "legacy"}
    world.apps().create_namespaced_deployment(
        world.namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="legacy"),
            spec=client.V1DeploymentSpec(
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="legacy:1")]),
                ),
            ),
        ),
    )
    body = greet()
    body["metadata"]["name"] = "legacy"
    world.apply(body)
    ready = wait_for(
        "NameConflict", lambda: (c := world.condition("legacy")).get("reason") == "NameConflict" and c
    )
    assert "Deployment" in ready["message"]
    legacy = world.deployment("legacy")
    assert legacy["spec"]["template"]["spec"]["containers"][0]["image"] == "legacy:1"
    assert not legacy["metadata"].get("ownerReferences")
    world.custom().delete_namespaced_custom_object(GROUP, VERSION, world.namespace, "workflows", "legacy")
    world.apps().delete_namespaced_deployment("legacy", world.namespace)


def test_deleting_the_workflow_garbage_collects_its_dependents(world: World) -> None:
    world.custom().delete_namespaced_custom_object(GROUP, VERSION, world.namespace, "workflows", "greet")
    wait_for(
        "the Deployment to be collected",
        lambda: not world.apps().list_namespaced_deployment(world.namespace).items,
        timeout=60,
    )
    wait_for("the ConfigMaps to be collected", lambda: not world.configmaps("greet"), timeout=60)
    wait_for(
        "the Service to be collected",
        lambda: not world.core().list_namespaced_service(world.namespace).items,
        timeout=60,
    )


def test_the_operator_met_no_forbidden_error_and_stops_cleanly(world: World) -> None:
    code = world.operator.stop(signal.SIGTERM)
    logs = world.operator.text()
    forbidden = [line for line in logs.splitlines() if "forbidden" in line.lower()]
    assert not forbidden, "\n".join(forbidden[:10])
    assert code == 0, logs[-3000:]
    assert "Traceback" not in logs, logs[-3000:]
