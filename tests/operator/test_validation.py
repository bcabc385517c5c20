from __future__ import annotations

from baton_operator.validation import format_findings, validate_policy, validate_workflow
from tests.operator._fixtures import policy_body, workflow_body


def test_a_valid_workflow_parses_with_no_findings() -> None:
    verdict = validate_workflow(workflow_body())
    assert verdict.valid
    assert verdict.workflow is not None
    assert verdict.workflow.metadata.name == "greet"


def test_dsl_problems_are_located_under_spec_workflow() -> None:
    body = workflow_body()
    body["spec"]["workflow"]["do"] = [{"hello": {"then": "nowhere", "set": {"a": 1}}}]
    verdict = validate_workflow(body)
    assert not verdict.valid
    assert any(f.path.startswith("spec.workflow.do[0]") for f in verdict.findings), verdict.findings


def test_manifest_problems_carry_their_json_path() -> None:
    body = workflow_body(runtime={"autoscaling": {"minReplicas": 5, "maxReplicas": 2}})
    body["spec"]["endpoint"]["path"] = "/a/../b"
    verdict = validate_workflow(body)
    paths = {f.path for f in verdict.findings}
    assert "spec.endpoint.path" in paths
    assert "spec.runtime.autoscaling" in paths
    assert "minReplicas must not exceed maxReplicas" in format_findings(verdict.findings)


def test_a_document_without_a_version_is_refused_as_baton_serve_would() -> None:
    body = workflow_body()
    del body["spec"]["workflow"]["document"]["version"]
    findings = validate_workflow(body).findings
    assert any(f.path.startswith("spec.workflow.document") for f in findings), findings


def test_a_canary_with_the_stable_version_is_refused() -> None:
    body = workflow_body()
    body["spec"]["rollout"] = {"canary": {"workflow": body["spec"]["workflow"], "weight": 10}}
    findings = validate_workflow(body).findings
    assert [f.path for f in findings] == ["spec.rollout.canary.workflow.document.version"]


def test_a_long_list_of_findings_is_cut_with_a_count() -> None:
    from baton_operator.validation import Finding

    text = format_findings([Finding(f"p{i}", "bad") for i in range(13)], limit=10)
    assert text.endswith("and 3 more")
    assert "p9: bad" in text
    assert "p10" not in text


def test_a_policy_with_two_schemes_is_refused_with_its_path() -> None:
    body = policy_body(
        authentication={"apiKey": {"secretRef": "k"}, "bearer": {"issuer": "https://issuer.example"}}
    )
    policy, findings = validate_policy(body)
    assert policy is None
    assert findings[0].path == "spec.authentication"
