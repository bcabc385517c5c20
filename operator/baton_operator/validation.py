"""Is a Workflow good enough to deploy? Exactly what ``baton validate`` and ``baton serve`` say.

The judgement is ``baton.definitions.judge`` (manifest models, the DSL checks, the engine's
compiler for join/compensation metadata and ``run: workflow``), the one function the CLI and
the runtime's loader call too, so a definition the operator accepts is one the runtime pods
will load, refused with the same paths and messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from baton.definitions import Item, judge
from baton.manifests import GROUP_VERSION, Policy, Workflow

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


def _manifest_view(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """What the shared models read: identity and spec, never the server-owned fields."""
    metadata = body.get("metadata") or {}
    return {
        "apiVersion": body.get("apiVersion") or GROUP_VERSION,
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
    (judged,) = judge([Item(None, _manifest_view(body, "Workflow"))])
    findings = tuple(Finding(p.path, p.message) for p in judged.problems)
    return Verdict(judged.workflow, findings)


def validate_policy(body: Mapping[str, Any]) -> tuple[Policy | None, tuple[Finding, ...]]:
    (judged,) = judge([Item(None, _manifest_view(body, "Policy"))])
    return judged.policy, tuple(Finding(p.path, p.message) for p in judged.problems)


def format_findings(findings: tuple[Finding, ...] | list[Finding], *, limit: int = 10) -> str:
    """One line a person can act on; long lists are cut, with the count of what was left out."""
    shown = [f"{f.path}: {f.message}" if f.path else f.message for f in findings[:limit]]
    more = len(findings) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
