"""One judgement of Baton definitions for every door: ``baton validate``, ``baton serve``, the operator.

A definition must be refused for the same reasons, in the same words, wherever it enters: the
CLI in CI, the runtime loading a mounted ConfigMap, the operator before it renders anything.
So the three call this module and add nothing of their own to what a definition *is*; what
they add is about where it goes (a folder walk, a route table, a Policy index).

Reading is ``baton.dsl``'s bounded YAML 1.2 reader (``on``/``yes`` stay strings, no alias bombs,
no duplicate keys), so the data judged is the data run. Judging is, per item: the manifest
models of ``baton.manifests`` (plus the weight annotation, reserved endpoint paths and distinct
canary versions), ``baton.dsl.validate`` on each embedded document (paths prefixed
``spec.workflow.`` / ``spec.rollout.canary.workflow.``), then the engine's compiler on every
document that passed, which knows Baton's extensions (join policies, compensation) and resolves
``run: workflow`` among the documents judged together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from baton import dsl
from baton.dsl import DocumentError, Problem
from baton.engine import Catalog, CompileError, compile_workflow
from baton.manifests import Policy, Workflow

__all__ = [
    "EMBEDDED_DOCUMENTS",
    "RESERVED_PATHS",
    "WEIGHT_ANNOTATION",
    "Embedded",
    "Extractor",
    "Item",
    "Judged",
    "Kind",
    "embedded_documents",
    "judge",
    "problems_of",
    "read_items",
    "version_of",
]

#: Relative traffic weight of a manifest's version when several manifests of one workflow are
#: served together; a canary inside one manifest uses its own ``weight``.
WEIGHT_ANNOTATION = "baton.dev/weight"

#: Paths the runtime server answers itself; an endpoint may not take them (nor anything below).
RESERVED_PATHS = ("/healthz", "/readyz", "/metrics", "/runs")

_M = TypeVar("_M", Workflow, Policy)

_EMBEDDED_PATHS = ("spec.workflow", "spec.rollout.canary.workflow")

#: What an item holds: a Baton resource, a bare DSL document, somebody else's Kubernetes
#: resource (kept beside ours in GitOps folders), or data that is none of these.
Kind = Literal["Workflow", "Policy", "document", "foreign", "invalid"]


@dataclass(frozen=True, slots=True)
class Item:
    """One YAML document of a source. ``file`` names it in problems (``file``, ``file#N``)."""

    file: str | None
    raw: Any
    #: A kustomize patch: a partial resource, so missing required properties are expected and
    #: only complete embedded documents are judged.
    partial: bool = False


@dataclass(slots=True)
class Embedded:
    """A DSL document inside an item, and what was found in it (paths from the item's root)."""

    prefix: str
    raw: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class Judged:
    """The verdict on one item; it may be served or deployed only when ``problems`` is empty."""

    item: Item
    kind: Kind
    #: The parsed manifest when the resource's own fields are valid (its documents may not be).
    workflow: Workflow | None = None
    policy: Policy | None = None
    documents: list[Embedded] = field(default_factory=list)
    #: Everything found, in reading order: problems of the item itself and its documents.
    findings: list[Problem | Embedded] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        for finding in self.findings:
            out.extend(finding.problems if isinstance(finding, Embedded) else [finding])
        return out


#: Finds the DSL documents inside a resource: ``(path prefix, document)`` pairs and the
#: problems of the resource itself, or ``None`` when the data is not a resource it knows.
Extractor = Callable[[dict[str, Any], "str | None"], "tuple[list[tuple[str, Any]], list[Problem]] | None"]


def _prefixed(problem: Problem, prefix: str) -> Problem:
    if not prefix:
        return problem
    path = (
        f"{prefix}.{problem.path}"
        if problem.path and not problem.path.startswith("[")
        else prefix + problem.path
    )
    return Problem(path, problem.message, problem.file, problem.severity)


def version_of(document: Any) -> str:
    """``document.version`` of a DSL document, ``""`` when it has none."""
    header = document.get("document") if isinstance(document, Mapping) else None
    version = header.get("version") if isinstance(header, Mapping) else None
    return "" if version is None else str(version)


def _model_problems(model: type[Workflow | Policy], raw: dict[str, Any], file: str | None) -> list[Problem]:
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        problems = dsl.problems_from_validation_error(exc, raw, file=file)
        # The embedded documents are judged on their own, with the DSL's models.
        return [p for p in problems if not p.path.startswith(_EMBEDDED_PATHS)]
    return []


def _workflow_rules(raw: dict[str, Any], file: str | None) -> list[Problem]:
    """What the Workflow model cannot say alone: how the runtime will route and weigh it."""
    problems: list[Problem] = []
    metadata = raw.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if isinstance(annotations, Mapping) and WEIGHT_ANNOTATION in annotations:
        weight = annotations[WEIGHT_ANNOTATION]
        text = weight.strip() if isinstance(weight, str) else None
        if text is None or not text.isdigit() or not 0 <= int(text) <= 100:
            problems.append(
                Problem(f"metadata.annotations[{WEIGHT_ANNOTATION}]", "must be an integer 0-100", file)
            )
    spec = raw.get("spec")
    endpoint = spec.get("endpoint") if isinstance(spec, Mapping) else None
    path = endpoint.get("path") if isinstance(endpoint, Mapping) else None
    if isinstance(path, str) and any(path == p or path.startswith(p + "/") for p in RESERVED_PATHS):
        problems.append(
            Problem(
                "spec.endpoint.path",
                f"{path} is reserved: the runtime serves " + ", ".join(RESERVED_PATHS) + " itself",
                file,
            )
        )
    return problems


def _baton_resource(
    raw: dict[str, Any], file: str | None
) -> tuple[list[tuple[str, Any]], list[Problem]] | None:
    api_version, kind = raw.get("apiVersion"), raw.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None  # not a Kubernetes resource: a DSL document
    if not api_version.startswith("baton.dev/"):
        return [], []  # somebody else's resource
    if kind == "Policy":
        return [], _model_problems(Policy, raw, file)
    if kind != "Workflow":
        return [], [Problem("kind", f"unknown Baton resource kind {kind!r} (Workflow or Policy)", file)]
    problems = _model_problems(Workflow, raw, file) + _workflow_rules(raw, file)
    spec = raw.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    documents: list[tuple[str, Any]] = []
    if "workflow" in spec:
        documents.append(("spec.workflow", spec["workflow"]))
    rollout = spec.get("rollout")
    canary = rollout.get("canary") if isinstance(rollout, dict) else None
    if isinstance(canary, dict) and "workflow" in canary:
        documents.append(("spec.rollout.canary.workflow", canary["workflow"]))
    return documents, problems


EMBEDDED_DOCUMENTS: list[Extractor] = [_baton_resource]


def embedded_documents(raw: dict[str, Any], file: str | None) -> tuple[list[tuple[str, Any]], list[Problem]]:
    """The DSL documents in ``raw`` (itself, unless a resource kind claims it)."""
    for extract in EMBEDDED_DOCUMENTS:
        found = extract(raw, file)
        if found is not None:
            return found
    return [("", raw)], []


def _kind(raw: Any) -> Kind:
    if not isinstance(raw, dict):
        return "invalid"
    api_version, kind = raw.get("apiVersion"), raw.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return "document"
    if not api_version.startswith("baton.dev/"):
        return "foreign"
    if kind == "Workflow":
        return "Workflow"
    return "Policy" if kind == "Policy" else "invalid"


def _judge_item(item: Item) -> Judged:
    raw, file = item.raw, item.file
    judged = Judged(item, _kind(raw))
    if not isinstance(raw, dict):
        kind = "a list" if isinstance(raw, list) else "empty" if raw is None else "a single value"
        judged.findings.append(Problem("", f"must be a mapping with document and do, not {kind}", file))
        return judged
    documents, problems = embedded_documents(raw, file)
    if item.partial:
        problems = [p for p in problems if not p.message.startswith("missing required property")]
        documents = [
            (prefix, d) for prefix, d in documents if isinstance(d, dict) and {"document", "do"} <= d.keys()
        ]
    judged.findings.extend(problems)
    for prefix, document in documents:
        if not isinstance(document, dict):
            message = "must be a workflow document (a mapping with document and do)"
            judged.findings.append(Problem(prefix, message, file))
            continue
        found = [_prefixed(problem, prefix) for problem in dsl.validate(document, file=file)]
        embedded = Embedded(prefix, document, found)
        judged.documents.append(embedded)
        judged.findings.append(embedded)
    if judged.kind == "Workflow":
        versions = {e.prefix: version_of(e.raw) for e in judged.documents}
        stable = versions.get("spec.workflow", "")
        if stable and versions.get("spec.rollout.canary.workflow") == stable:
            judged.findings.append(
                Problem(
                    "spec.rollout.canary.workflow.document.version",
                    "the canary must have a different version from the stable workflow",
                    file,
                )
            )
    if not problems and not item.partial:
        judged.workflow = _parsed(Workflow, raw) if judged.kind == "Workflow" else None
        judged.policy = _parsed(Policy, raw) if judged.kind == "Policy" else None
    return judged


def _parsed(model: type[_M], raw: dict[str, Any]) -> _M | None:
    try:
        return model.model_validate(raw)
    except ValidationError:  # told already, as problems of the embedded documents
        return None


def _compile(judged: Sequence[Judged], catalog: Iterable[Mapping[str, Any]]) -> None:
    """What the engine's compiler still refuses in documents the DSL checks passed."""
    valid = [(j.item.file, e) for j in judged for e in j.documents if not e.problems]
    known = Catalog([*catalog, *(e.raw for _, e in valid)])
    for file, embedded in valid:
        try:
            compile_workflow(embedded.raw, catalog=known)
        except CompileError as exc:
            embedded.problems = [
                _prefixed(Problem(path, message, file), embedded.prefix) for path, message in exc.problems
            ]


def judge(items: Sequence[Item], *, catalog: Iterable[Mapping[str, Any]] = ()) -> list[Judged]:
    """Judge ``items`` together: ``run: workflow`` resolves among their documents and ``catalog``."""
    judged = [_judge_item(item) for item in items]
    _compile(judged, catalog)
    return judged


def problems_of(judged: Iterable[Judged]) -> list[Problem]:
    return [problem for one in judged for problem in one.problems]


def read_items(
    source: Path | bytes, *, origin: str, limits: dsl.LoadLimits = dsl.DEFAULT_LIMITS
) -> tuple[list[Item], list[Problem]]:
    """The documents of a file (a YAML stream, as Kubernetes files hold), or why it cannot be read.

    Empty documents of a stream (a stray ``---``) are skipped, as ``kubectl`` skips them; when
    more than one document remains, the Nth is named ``origin#N``.
    """
    try:
        found = [
            item for item in dsl.read_documents(source, origin=origin, limits=limits) if item is not None
        ]
    except DocumentError as exc:
        return [], list(exc.problems)
    if not found:
        return [], [Problem("", "is empty: a workflow document is a mapping with document and do", origin)]
    if len(found) == 1:
        return [Item(origin, found[0])], []
    return [Item(f"{origin}#{number}", raw) for number, raw in enumerate(found, 1)], []
