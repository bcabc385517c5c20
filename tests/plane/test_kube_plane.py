"""The control plane is real: apiserver validation, subresources, GC, RBAC with bound tokens."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.plane.kube import KubePlane

pytestmark = pytest.mark.plane

GROUP = "plane-test.baton.dev"


def _eventually(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.25)


@pytest.fixture
def api(kube_plane: KubePlane) -> Iterator[Any]:
    with kube_plane.api_client() as client:
        yield client


@pytest.fixture
def namespace(kube_namespace: str) -> str:
    return kube_namespace


@pytest.fixture
def widget_crd(api: Any) -> Iterator[str]:
    """A namespaced CRD with a structural schema and a status subresource; yields its plural."""
    from kubernetes import client

    plural = f"widgets{uuid.uuid4().hex[:6]}"
    body = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural[:-1], "kind": f"W{plural}"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["replicas"],
                                    "properties": {
                                        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
                                        "color": {"type": "string", "enum": ["red", "blue"]},
                                    },
                                },
                                "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                            },
                        }
                    },
                }
            ],
        },
    }
    ext = client.ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(body)

    def established() -> bool:
        crd = ext.read_custom_resource_definition(f"{plural}.{GROUP}")
        return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

    _eventually("the CRD to be established", established, timeout=30)
    yield plural
    ext.delete_custom_resource_definition(f"{plural}.{GROUP}")


def _widget(plural: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": f"W{plural}", "metadata": {"name": name}, "spec": spec}


def test_apiserver_reports_the_pinned_kubernetes_version(kube_plane: KubePlane) -> None:
    out = json.loads(kube_plane.kubectl("version", "-o", "json").stdout)
    server, client = out["serverVersion"], out["clientVersion"]
    assert (int(server["major"]), int(server["minor"].rstrip("+"))) >= (1, 34)
    if kube_plane.local:
        from tests.plane._build import KUBERNETES_VERSION

        # Without the version ldflags these would read v0.0.0, which helm and kubectl reject.
        assert server["gitVersion"] == KUBERNETES_VERSION
        assert client["gitVersion"] == KUBERNETES_VERSION


def test_crd_schema_accepts_a_valid_object_and_the_apiserver_rejects_an_invalid_one(
    api: Any, namespace: str, widget_crd: str
) -> None:
    from kubernetes import client

    objs = client.CustomObjectsApi(api)
    created = objs.create_namespaced_custom_object(
        GROUP, "v1", namespace, widget_crd, _widget(widget_crd, "good", {"replicas": 3, "color": "red"})
    )
    assert created["spec"] == {"replicas": 3, "color": "red"}

    with pytest.raises(client.ApiException) as bad:
        objs.create_namespaced_custom_object(
            GROUP, "v1", namespace, widget_crd, _widget(widget_crd, "bad", {"replicas": 0, "color": "green"})
        )
    assert bad.value.status == 422
    message = json.loads(bad.value.body)["message"]
    assert "spec.replicas" in message
    assert "spec.color" in message
    # Structural schemas prune unknown fields instead of storing them.
    pruned = objs.create_namespaced_custom_object(
        GROUP, "v1", namespace, widget_crd, _widget(widget_crd, "pruned", {"replicas": 1, "extra": "x"})
    )
    assert "extra" not in pruned["spec"]


def test_status_subresource_is_written_separately_from_spec(
    api: Any, namespace: str, widget_crd: str
) -> None:
    from kubernetes import client

    objs = client.CustomObjectsApi(api)
    obj = _widget(widget_crd, "w", {"replicas": 2})
    obj["status"] = {"phase": "ignored-on-create"}
    created = objs.create_namespaced_custom_object(GROUP, "v1", namespace, widget_crd, obj)
    assert "status" not in created
    generation = created["metadata"]["generation"]

    updated = objs.patch_namespaced_custom_object_status(
        GROUP, "v1", namespace, widget_crd, "w", {"status": {"phase": "Ready"}}
    )
    assert updated["status"] == {"phase": "Ready"}
    assert updated["metadata"]["generation"] == generation  # status writes do not bump generation

    respec = objs.patch_namespaced_custom_object(
        GROUP, "v1", namespace, widget_crd, "w", {"spec": {"replicas": 4}, "status": {"phase": "Hacked"}}
    )
    assert respec["status"] == {"phase": "Ready"}  # the main resource cannot write status
    assert respec["metadata"]["generation"] == generation + 1


def test_deleting_an_owner_garbage_collects_its_dependent_but_not_an_unowned_neighbour(
    api: Any, namespace: str
) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    ref = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dependent", owner_references=[ref]))
    )
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="neighbour"))
    )

    core.delete_namespaced_config_map("owner", namespace, propagation_policy="Background")

    def gone() -> bool:
        names = {cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items}
        return "dependent" not in names

    _eventually("the garbage collector to delete the dependent", gone, timeout=90)
    assert core.read_namespaced_config_map("neighbour", namespace).metadata.name == "neighbour"


def test_a_service_account_token_without_rbac_permission_is_forbidden_until_a_role_is_bound(
    kube_plane: KubePlane, api: Any, namespace: str
) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="bot"))
    )
    token = kube_plane.service_account_token(namespace, "bot", seconds=600)

    with kube_plane.client_for_token(token) as as_bot:
        review = client.AuthenticationV1Api(as_bot).create_self_subject_review(
            client.V1SelfSubjectReview(metadata=client.V1ObjectMeta())
        )
        assert review.status.user_info.username == f"system:serviceaccount:{namespace}:bot"

        with pytest.raises(client.ApiException) as denied:
            client.CoreV1Api(as_bot).list_namespaced_secret(namespace)
        assert denied.value.status == 403

        rbac = client.RbacAuthorizationV1Api(api)
        rbac.create_namespaced_role(
            namespace,
            client.V1Role(
                metadata=client.V1ObjectMeta(name="read-secrets"),
                rules=[client.V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["list"])],
            ),
        )
        rbac.create_namespaced_role_binding(
            namespace,
            client.V1RoleBinding(
                metadata=client.V1ObjectMeta(name="bot-reads-secrets"),
                role_ref=client.V1RoleRef(
                    api_group="rbac.authorization.k8s.io", kind="Role", name="read-secrets"
                ),
                subjects=[client.RbacV1Subject(kind="ServiceAccount", name="bot", namespace=namespace)],
            ),
        )

        def allowed() -> bool:
            try:
                client.CoreV1Api(as_bot).list_namespaced_secret(namespace)
            except client.ApiException as exc:
                if exc.status == 403:
                    return False
                raise
            return True

        _eventually("the role binding to take effect", allowed, timeout=30)
        with pytest.raises(client.ApiException) as still_denied:
            client.CoreV1Api(as_bot).list_namespaced_config_map(namespace)
        assert still_denied.value.status == 403

    with (
        kube_plane.client_for_token(token + "x") as forged,
        pytest.raises(client.ApiException) as unauthorized,
    ):
        client.CoreV1Api(forged).list_namespaced_secret(namespace)
    assert unauthorized.value.status == 401


def test_deleting_a_namespace_removes_it_and_its_contents(api: Any) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    name = f"plane-gone-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    core.delete_namespace(name)

    def gone() -> bool:
        return name not in {ns.metadata.name for ns in core.list_namespace().items}

    _eventually("the namespace controller to finalize the namespace", gone, timeout=90)
