from __future__ import annotations

from typing import Any

import yaml

from baton.manifests import Policy, Workflow
from baton_operator.config import OperatorConfig
from baton_operator.render import MANIFEST_DIR, SECRETS_DIR, Owner, render
from tests.operator._fixtures import DOCUMENT, policy_body, workflow_body

OWNER = Owner("greet", "shop", "0b7e1f4e-1111-2222-3333-444455556666")
CONFIG = OperatorConfig(
    runtime_image="registry.example/baton-runtime:1.2.3", otlp_endpoint="http://jaeger:4318"
)


def _workflow(**spec: Any) -> Workflow:
    body = workflow_body(**spec)
    return Workflow.model_validate(
        {k: body[k] for k in ("apiVersion", "kind", "spec")} | {"metadata": {"name": "greet"}}
    )


def _policy(**spec: Any) -> Policy:
    return Policy.model_validate(policy_body(**spec))


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def test_every_object_is_owned_by_the_workflow_as_its_controller() -> None:
    rendering = render(
        _workflow(runtime={"autoscaling": {"maxReplicas": 3}, "podDisruptionBudget": {}}),
        [],
        owner=OWNER,
        config=CONFIG,
    )
    objects = rendering.objects()
    assert [o["kind"] for o in objects] == [
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    ]
    for obj in objects:
        (ref,) = obj["metadata"]["ownerReferences"]
        assert ref == {
            "apiVersion": "baton.dev/v1alpha1",
            "kind": "Workflow",
            "name": "greet",
            "uid": OWNER.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
        assert obj["metadata"]["namespace"] == "shop"


def test_the_runtime_command_line_is_one_baton_serve_accepts() -> None:
    from baton.cli.main import _parser

    args = _container(render(_workflow(secrets=["s"]), [], owner=OWNER, config=CONFIG).deployment)["args"]
    parsed = _parser().parse_args(args)
    assert (parsed.command, parsed.host, parsed.port) == ("serve", "0.0.0.0", 8080)
    assert str(parsed.secrets_dir) == SECRETS_DIR


def test_the_configmap_is_immutable_and_named_by_its_content() -> None:
    first = render(_workflow(), [], owner=OWNER, config=CONFIG)
    again = render(_workflow(), [], owner=OWNER, config=CONFIG)
    assert first.configmap == again.configmap
    assert first.configmap["immutable"] is True
    assert first.configmap["metadata"]["name"] == f"greet-{first.revision}"
    changed_doc = {**DOCUMENT, "document": {**DOCUMENT["document"], "version": "1.0.1"}}
    changed = render(_workflow(workflow=changed_doc), [], owner=OWNER, config=CONFIG)
    assert changed.revision != first.revision


def test_settings_the_runtime_does_not_read_do_not_make_a_new_revision() -> None:
    base = render(_workflow(), [], owner=OWNER, config=CONFIG)
    scaled = render(_workflow(runtime={"replicas": 4}, history={"limit": 9}), [], owner=OWNER, config=CONFIG)
    assert scaled.revision == base.revision
    assert scaled.deployment["spec"]["replicas"] == 4


def test_the_rendered_manifest_loads_back_as_the_same_workflow() -> None:
    rendering = render(_workflow(policies=["callers"]), [_policy()], owner=OWNER, config=CONFIG)
    files = rendering.configmap["data"]
    assert sorted(files) == ["policy-callers.yaml", "workflow.yaml"]
    manifest = Workflow.model_validate(yaml.safe_load(files["workflow.yaml"]))
    assert manifest.spec.workflow == DOCUMENT
    assert manifest.spec.policies == ["callers"]
    assert Policy.model_validate(yaml.safe_load(files["policy-callers.yaml"])).metadata.name == "callers"


def test_a_policy_change_makes_a_new_revision() -> None:
    before = render(_workflow(policies=["callers"]), [_policy()], owner=OWNER, config=CONFIG)
    changed = _policy(authentication={"apiKey": {"secretRef": "caller-keys", "header": "X-Key"}})
    after = render(_workflow(policies=["callers"]), [changed], owner=OWNER, config=CONFIG)
    assert after.revision != before.revision


def test_the_runtime_pod_runs_locked_down_with_no_api_token() -> None:
    deployment = render(_workflow(), [], owner=OWNER, config=CONFIG).deployment
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "greet"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["image"] == "registry.example/baton-runtime:1.2.3"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["args"][:2] == ["serve", MANIFEST_DIR]


def test_traces_go_to_the_configured_collector() -> None:
    env = {
        e["name"]: e.get("value")
        for e in _container(render(_workflow(), [], owner=OWNER, config=CONFIG).deployment)["env"]
    }
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    assert env["OTEL_SERVICE_NAME"] == "greet.shop"
    quiet = OperatorConfig(otlp_endpoint="")
    env = {
        e["name"]: e.get("value")
        for e in _container(render(_workflow(), [], owner=OWNER, config=quiet).deployment)["env"]
    }
    assert env["OTEL_TRACES_EXPORTER"] == "none"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env


def test_secrets_of_the_workflow_and_its_policies_are_mounted_read_only() -> None:
    rendering = render(
        _workflow(secrets=["shop-api"], policies=["callers"]), [_policy()], owner=OWNER, config=CONFIG
    )
    container = _container(rendering.deployment)
    volumes = {v["name"]: v for v in rendering.deployment["spec"]["template"]["spec"]["volumes"]}
    mounted = {
        volumes[m["name"]]["secret"]["secretName"]: m
        for m in container["volumeMounts"]
        if "secret" in volumes[m["name"]]
    }
    assert set(mounted) == {"shop-api", "caller-keys"}
    assert all(m["readOnly"] and m["mountPath"] == f"{SECRETS_DIR}/{name}" for name, m in mounted.items())
    args = container["args"]
    assert args[args.index("--secrets-dir") + 1] == SECRETS_DIR
    assert (
        "--secrets-dir"
        not in _container(render(_workflow(), [], owner=OWNER, config=CONFIG).deployment)["args"]
    )


def test_resources_default_from_config_unless_the_workflow_sets_them() -> None:
    assert _container(render(_workflow(), [], owner=OWNER, config=CONFIG).deployment)["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    own = _workflow(runtime={"resources": {"requests": {"cpu": "1"}}})
    assert _container(render(own, [], owner=OWNER, config=CONFIG).deployment)["resources"] == {
        "requests": {"cpu": "1"}
    }


def test_with_an_autoscaler_the_deployment_leaves_replicas_to_it() -> None:
    rendering = render(
        _workflow(runtime={"replicas": 2, "autoscaling": {"minReplicas": 2, "maxReplicas": 6}}),
        [],
        owner=OWNER,
        config=CONFIG,
    )
    assert "replicas" not in rendering.deployment["spec"]
    assert rendering.hpa is not None
    assert (rendering.hpa["spec"]["minReplicas"], rendering.hpa["spec"]["maxReplicas"]) == (2, 6)
    plain = render(_workflow(), [], owner=OWNER, config=CONFIG)
    assert plain.hpa is None
    assert plain.pdb is None


def test_the_service_selects_every_revision_of_the_workflow() -> None:
    rendering = render(_workflow(), [], owner=OWNER, config=CONFIG)
    selector = rendering.service["spec"]["selector"]
    pod_labels = rendering.deployment["spec"]["template"]["metadata"]["labels"]
    assert selector == rendering.deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert "baton.dev/revision" not in selector


def test_a_canary_is_served_beside_the_stable_version_in_the_same_revision() -> None:
    canary_doc = {**DOCUMENT, "document": {**DOCUMENT["document"], "version": "2.0.0"}}
    rendering = render(
        _workflow(rollout={"canary": {"workflow": canary_doc, "weight": 20}}), [], owner=OWNER, config=CONFIG
    )
    assert (rendering.version, rendering.canary_version, rendering.canary_weight) == ("1.0.0", "2.0.0", 20)
    manifest = Workflow.model_validate(yaml.safe_load(rendering.configmap["data"]["workflow.yaml"]))
    assert manifest.spec.rollout is not None
    assert manifest.spec.rollout.canary is not None
    assert manifest.spec.rollout.canary.weight == 20
