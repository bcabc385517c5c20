"""Is a Workflow good enough to deploy? The same checks as ``baton validate``, located by path.

The manifest is checked by the shared ``baton.manifests`` models (what the CRD schema cannot
say), then the Serverless Workflow documents by ``baton.dsl.validate``: exactly what the CLI and
``baton serve`` run, so a definition the operator accepts is one the runtime pods will load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from baton import dsl
from baton.manifests import Policy, Workflow

__all__ = ["Finding", "Verdict", "format_findings", "validate_policy", "validate_workflow"]


@dataclass(frozen=True, slots=True)
class Finding:
    #: JSON path from the resource root, e.g. ``spec.workflow.do[2].fetchUser.call``.
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Verdict:
    workflow: Workflow | None
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        return self.workflow is not None and not self.findings


def _join(prefix: str, path: str) -> str:
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text = f"{text}[{part}]" if isinstance(part, int) else (f"{text}.{part}" if text else str(part))
    return text


def _pydantic_findings(error: ValidationError) -> list[Finding]:
    findings = []
    for item in error.errors(include_url=False, include_input=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        findings.append(Finding(_location(tuple(item["loc"])), message))
    return findings


def _manifest_view(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """What the shared models read: identity and spec, never the server-owned fields."""
    metadata = body.get("metadata") or {}
    return {
        "apiVersion": body.get("apiVersion"),
        "kind": kind,
        "metadata": {
            "name": metadata.get("name"),
            "namespace": metadata.get("namespace"),
            "labels": dict(metadata.get("labels") or {}),
            "annotations": {
                k: v for k, v in (metadata.get("annotations") or {}).items() if not k.startswith("kubectl.")
            },
            "generation": metadata.get("generation"),
        },
        "spec": body.get("spec"),
    }


def validate_workflow(body: Mapping[str, Any]) -> Verdict:
    """Every finding at once; ``Verdict.workflow`` is the parsed manifest when it parses."""
    try:
        workflow = Workflow.model_validate(_manifest_view(body, "Workflow"))
    except ValidationError as exc:
        return Verdict(None, tuple(_pydantic_findings(exc)))
    findings: list[Finding] = []
    documents = [("spec.workflow", workflow.spec.workflow)]
    if workflow.spec.rollout is not None and workflow.spec.rollout.canary is not None:
        documents.append(("spec.rollout.canary.workflow", workflow.spec.rollout.canary.workflow))
    for prefix, document in documents:
        for problem in dsl.validate(document):
            tag = " [not supported by Baton]" if problem.severity == "unsupported" else ""
            findings.append(Finding(_join(prefix, problem.path), problem.message + tag))
        # What ``baton serve`` adds to the DSL checks: versions route traffic, so one is required.
        if not _version(document):
            findings.append(Finding(f"{prefix}.document.version", "a version is required"))
    if (
        len(documents) == 2
        and _version(documents[0][1])
        and _version(documents[0][1]) == _version(documents[1][1])
    ):
        findings.append(
            Finding(
                "spec.rollout.canary.workflow.document.version",
                "the canary must have a different version from the stable workflow",
            )
        )
    return Verdict(workflow, tuple(findings))


def _version(document: Mapping[str, Any]) -> str:
    header = document.get("document")
    return str(header.get("version") or "") if isinstance(header, Mapping) else ""


def validate_policy(body: Mapping[str, Any]) -> tuple[Policy | None, tuple[Finding, ...]]:
    try:
        return Policy.model_validate(_manifest_view(body, "Policy")), ()
    except ValidationError as exc:
        return None, tuple(_pydantic_findings(exc))


def format_findings(findings: tuple[Finding, ...] | list[Finding], *, limit: int = 10) -> str:
    """One line a person can act on; long lists are cut, with the count of what was left out."""
    shown = [f"{f.path}: {f.message}" if f.path else f.message for f in findings[:limit]]
    more = len(findings) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
