import pytest
from pydantic import ValidationError

from baton.manifests import Workflow

DOCUMENT = {
    "document": {"dsl": "1.0.3", "namespace": "default", "name": "hello", "version": "1.0.0"},
    "do": [],
}


def manifest(**spec: object) -> dict[str, object]:
    return {
        "apiVersion": "baton.dev/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "hello"},
        "spec": {"endpoint": {"path": "/hello"}, "workflow": DOCUMENT, **spec},
    }


def test_a_minimal_manifest_gets_the_documented_defaults() -> None:
    workflow = Workflow.model_validate(manifest())
    assert workflow.spec.endpoint.method == "POST"
    assert workflow.spec.runtime.replicas == 1
    assert workflow.spec.history.limit == 5
    assert workflow.spec.idempotency.ttl_seconds == 86_400


@pytest.mark.parametrize("path", ["hello", "/a/../b", "/a?x=1", "/a//b", "/a/"])
def test_endpoint_paths_that_would_route_ambiguously_are_refused(path: str) -> None:
    data = manifest()
    data["spec"]["endpoint"]["path"] = path  # type: ignore[index]
    with pytest.raises(ValidationError, match=r"endpoint\.path"):
        Workflow.model_validate(data)


def test_an_unknown_spec_field_is_refused_as_a_typo() -> None:
    with pytest.raises(ValidationError, match="replicass"):
        Workflow.model_validate(manifest(replicass=3))


def test_autoscaling_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="minReplicas must not exceed maxReplicas"):
        Workflow.model_validate(manifest(runtime={"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}))


def test_policy_names_must_be_kubernetes_names() -> None:
    with pytest.raises(ValidationError, match=r"policies\[1\]"):
        Workflow.model_validate(manifest(policies=["ok", "Not_OK"]))
