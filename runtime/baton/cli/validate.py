"""``baton validate PATH...``: every problem of every workflow document, at once.

Files are checked whatever their name; folders are searched for ``*.yaml``, ``*.yml`` and
``*.json``. A Baton ``Workflow`` manifest is checked as a manifest and its embedded DSL
document(s) as documents, with paths prefixed by where they sit (``spec.workflow.do[0]...``).
A file may hold several YAML documents (``---``), as Kubernetes manifests do; the Nth of
them is named ``file#N``. In folders, other Kubernetes resources and YAML that is neither a
workflow nor a resource are skipped, and in a kustomize folder the files its ``resources``
do not list are read as patches: partial resources whose complete workflows are checked.

The judgement is ``baton.definitions``', the same ``baton serve`` and the operator make:
documents the DSL checks pass are then compiled by the engine, which knows Baton's own
extensions (fork join policies, compensation) and resolves ``run: workflow`` among all the
documents given. Empty documents of a stream (a stray ``---``) are skipped.

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from baton import dsl
from baton.definitions import EMBEDDED_DOCUMENTS, Item, embedded_documents, judge, problems_of, read_items
from baton.dsl import DocumentError, Problem

__all__ = ["EMBEDDED_DOCUMENTS", "embedded_documents", "register", "validate_file", "validate_paths"]

_SUFFIXES = (".yaml", ".yml", ".json")

#: How a file found in a folder is read. ``explicit``: named on the command line, checked
#: whatever it holds. ``found``: met while searching a folder, skipped unless it looks like a
#: workflow or a Kubernetes resource. ``patch``: a kustomize patch (a file of a kustomize
#: folder that its ``resources`` do not list), in which resources are partial by design.
Mode = Literal["explicit", "found", "patch"]
_WORKFLOW_KEYS = frozenset({"document", "do", "apiVersion", "kind"})

#: A file's findings in order: problems reading it, and the items to judge.
_Findings = list["Problem | Item"]


def _check_source(source: Path | bytes, name: str, mode: Mode = "explicit") -> _Findings:
    items, problems = read_items(source, origin=name)
    if mode != "explicit":
        # Some other YAML kept in the folder (a ConfigMap fragment, values, ...) is not ours.
        items = [i for i in items if isinstance(i.raw, dict) and _WORKFLOW_KEYS & i.raw.keys()]
    return [*problems, *(Item(i.file, i.raw, partial=mode == "patch") for i in items)]


def validate_file(path: Path) -> list[Problem]:
    """Every problem of one file (its sub-workflows resolve only among its own documents)."""
    return _judged(_check_source(path, str(path)))


def _judged(findings: _Findings) -> list[Problem]:
    """Judge every item together (``run: workflow`` resolves among all), keeping file order."""
    items = [finding for finding in findings if isinstance(finding, Item)]
    verdicts = iter(judge(items))
    problems: list[Problem] = []
    for finding in findings:
        problems.extend(problems_of([next(verdicts)]) if isinstance(finding, Item) else [finding])
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
            findings.extend(_check_source(file, str(file), mode))
    return count, _judged(findings)


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
