"""``baton validate PATH...``: every problem of every workflow document, at once.

Files are checked whatever their name; folders are searched for ``*.yaml``, ``*.yml`` and
``*.json``. A Baton ``Workflow`` manifest is checked as a manifest and its embedded DSL
document(s) as documents, with paths prefixed by where they sit (``spec.workflow.do[0]...``).
A file may hold several YAML documents (``---``), as Kubernetes manifests do; the Nth of
them is named ``file#N``. In folders, other Kubernetes resources and YAML that is neither a
workflow nor a resource are skipped, and in a kustomize folder the files its ``resources``
do not list are read as patches: partial resources whose complete workflows are checked.

Documents the DSL checks pass are then compiled by the engine, which knows Baton's own
extensions (fork join policies, compensation) and resolves ``run: workflow`` among all the
documents given.

Exit codes: 0 every document is valid and runnable by Baton; 1 there are problems (listed on
stdout, one per line as ``file: path: message``, or as JSON with ``--output json``); 2 the
command line is wrong or the validator itself failed (a message, never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from baton import dsl
from baton.dsl import DocumentError, Problem

__all__ = ["EMBEDDED_DOCUMENTS", "embedded_documents", "register", "validate_file", "validate_paths"]

_SUFFIXES = (".yaml", ".yml", ".json")

#: Finds the DSL documents inside a resource; extended by adding to ``EMBEDDED_DOCUMENTS``.
#: An extractor returns ``(path prefix, document)`` pairs and the problems of the resource
#: itself, or ``None`` when the data is not a resource it knows.
Extractor = Callable[[dict[str, Any], str], "tuple[list[tuple[str, Any]], list[Problem]] | None"]


_EMBEDDED_PATHS = ("spec.workflow", "spec.rollout.canary.workflow")


def _manifest_problems(model: Any, raw: dict[str, Any], file: str) -> list[Problem]:
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        problems = dsl.problems_from_validation_error(exc, raw, file=file)
        # The embedded documents are checked on their own, with the DSL's models.
        return [p for p in problems if not p.path.startswith(_EMBEDDED_PATHS)]
    return []


def _baton_resource(raw: dict[str, Any], file: str) -> tuple[list[tuple[str, Any]], list[Problem]] | None:
    api_version, kind = raw.get("apiVersion"), raw.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None  # not a Kubernetes resource: a DSL document
    if not api_version.startswith("baton.dev/"):
        return [], []  # somebody else's resource, kept beside ours in a GitOps folder
    from baton import manifests

    model = getattr(manifests, kind, None) if kind in ("Workflow", "Policy") else None
    if model is None:
        return [], [Problem("kind", f"unknown Baton resource kind {kind!r} (Workflow or Policy)", file)]
    problems = _manifest_problems(model, raw, file)
    if kind != "Workflow":
        return [], problems
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


def embedded_documents(raw: dict[str, Any], file: str) -> tuple[list[tuple[str, Any]], list[Problem]]:
    """The DSL documents in ``raw`` (itself, unless a resource kind claims it)."""
    for extract in EMBEDDED_DOCUMENTS:
        found = extract(raw, file)
        if found is not None:
            return found
    return [("", raw)], []


def _prefixed(problem: Problem, prefix: str) -> Problem:
    if not prefix:
        return problem
    path = (
        f"{prefix}.{problem.path}"
        if problem.path and not problem.path.startswith("[")
        else prefix + problem.path
    )
    return Problem(path, problem.message, problem.file, problem.severity)


@dataclass
class _Document:
    """A DSL document found in a file, and what the DSL checks said about it."""

    file: str
    prefix: str
    raw: dict[str, Any]
    problems: list[Problem]


#: A file's findings in order: problems of the file or resource, and the documents in it.
_Findings = list["Problem | _Document"]


#: How a file found in a folder is read. ``explicit``: named on the command line, checked
#: whatever it holds. ``found``: met while searching a folder, skipped unless it looks like a
#: workflow or a Kubernetes resource. ``patch``: a kustomize patch (a file of a kustomize
#: folder that its ``resources`` do not list), in which resources are partial by design.
Mode = Literal["explicit", "found", "patch"]
_WORKFLOW_KEYS = frozenset({"document", "do", "apiVersion", "kind"})


def _check_file(path: Path, mode: Mode = "explicit") -> _Findings:
    return _check_source(path, str(path), mode)


def _check_source(source: Path | bytes, name: str, mode: Mode = "explicit") -> _Findings:
    try:
        items = dsl.read_documents(source, origin=name)
    except DocumentError as exc:
        return list(exc.problems)
    if not items:
        return [Problem("", "is empty: a workflow document is a mapping with document and do", name)]
    findings: _Findings = []
    for number, item in enumerate(items, 1):
        findings.extend(_check_item(item, f"{name}#{number}" if len(items) > 1 else name, mode))
    return findings


def _check_item(raw: Any, file: str, mode: Mode) -> _Findings:
    if mode != "explicit" and not (isinstance(raw, dict) and _WORKFLOW_KEYS & raw.keys()):
        return []  # some other YAML kept in the folder (a ConfigMap fragment, values, ...)
    if not isinstance(raw, dict):
        kind = "a list" if isinstance(raw, list) else "empty" if raw is None else "a single value"
        return [Problem("", f"must be a mapping with document and do, not {kind}", file)]
    documents, problems = embedded_documents(raw, file)
    if mode == "patch":
        problems = [p for p in problems if not p.message.startswith("missing required property")]
        documents = [
            (prefix, d) for prefix, d in documents if isinstance(d, dict) and {"document", "do"} <= d.keys()
        ]
    findings: _Findings = list(problems)
    for prefix, document in documents:
        if not isinstance(document, dict):
            message = "must be a workflow document (a mapping with document and do)"
            findings.append(Problem(prefix, message, file))
            continue
        found = [_prefixed(problem, prefix) for problem in dsl.validate(document, file=file)]
        findings.append(_Document(file, prefix, document, found))
    return findings


def _compile_problems(documents: list[_Document]) -> None:
    """What the engine's compiler still refuses in documents the DSL checks passed.

    Its extensions (join policies, compensation) and the sub-workflows a document runs are
    only known there; ``run: workflow`` resolves among every document of this invocation.
    """
    from baton.engine import Catalog, CompileError, compile_workflow

    valid = [document for document in documents if not document.problems]
    catalog = Catalog(document.raw for document in valid)
    for document in valid:
        try:
            compile_workflow(document.raw, catalog=catalog)
        except CompileError as exc:
            document.problems = [
                _prefixed(Problem(path, message, document.file), document.prefix)
                for path, message in exc.problems
            ]


def validate_file(path: Path) -> list[Problem]:
    """Every problem of one file (its sub-workflows resolve only among its own documents)."""
    return _flatten(_check_file(path))


def _flatten(findings: _Findings) -> list[Problem]:
    _compile_problems([finding for finding in findings if isinstance(finding, _Document)])
    problems: list[Problem] = []
    for finding in findings:
        problems.extend(finding.problems if isinstance(finding, _Document) else [finding])
    return problems


_KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _kustomize_resources(folder: Path) -> set[Path] | None:
    """The files a kustomization in ``folder`` lists as resources (``None``: not kustomize)."""
    for name in _KUSTOMIZATIONS:
        if (folder / name).is_file():
            try:
                raw = dsl.read_document(folder / name, origin=name)
            except DocumentError:
                return set()
            listed = raw.get("resources")
            entries = listed if isinstance(listed, list) else []
            return {(folder / entry).resolve() for entry in entries if isinstance(entry, str)}
    return None


def _files(target: Path) -> Iterator[tuple[Path, Mode]]:
    if not target.is_dir():
        yield target, "explicit"
        return
    resources: dict[Path, set[Path] | None] = {}
    for path in sorted(target.rglob("*")):
        if path.suffix.lower() not in _SUFFIXES or not path.is_file() or path.name in _KUSTOMIZATIONS:
            continue
        folder = path.parent
        if folder not in resources:
            resources[folder] = _kustomize_resources(folder)
        listed = resources[folder]
        yield path, "patch" if listed is not None and path.resolve() not in listed else "found"


def validate_paths(targets: list[Path]) -> tuple[int, list[Problem]]:
    """How many files were checked, and every problem found in them."""
    count = 0
    findings: _Findings = []
    for target in targets:
        if str(target) == "-":
            count += 1
            findings.extend(_check_source(sys.stdin.buffer.read(dsl.DEFAULT_LIMITS.max_bytes + 1), "<stdin>"))
            continue
        if not target.exists():
            findings.append(Problem("", "no such file or folder", str(target)))
            continue
        files = list(_files(target))
        if not files:
            findings.append(Problem("", "holds no .yaml, .yml or .json files", str(target)))
        for file, mode in files:
            count += 1
            findings.extend(_check_file(file, mode))
    return count, _flatten(findings)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check workflow documents and manifests without running them",
        description=(
            "Check Serverless Workflow documents (and Baton Workflow manifests): the DSL schema, "
            "flow targets, references, expressions, durations, and what Baton can run. "
            "Exit 0 when all are valid, 1 when there are problems."
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders; - reads stdin")
    parser.add_argument(
        "--output", choices=("text", "json"), default="text", help="json: one object for CI tools"
    )
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    try:
        count, problems = validate_paths(args.paths)
    except Exception as exc:  # the boundary: a bug must still not show a user a traceback
        print(f"baton validate: internal error ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    try:
        _report(args.output, count, problems)
    except BrokenPipeError:
        # The reader went away (``| head``): nothing left to tell it, and no traceback either.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1 if problems else 0


def _report(output: str, count: int, problems: list[Problem]) -> None:
    if output == "json":
        report = {"valid": not problems, "files": count, "problems": [p.to_dict() for p in problems]}
        print(json.dumps(report, indent=2))
    else:
        for problem in problems:
            print(_line(problem))
        summary = f"{count} file{'s' if count != 1 else ''} checked"
        print(
            f"{summary}, {len(problems)} problem{'s' if len(problems) != 1 else ''}"
            if problems
            else f"{summary}, all valid",
            file=sys.stderr,
        )


def _line(problem: Problem) -> str:
    where = f"{problem.file}: " if problem.file else ""
    located = f"{problem.path}: " if problem.path else ""
    return f"{where}{located}{problem.message}"
