"""Manifests from files and folders into servable definitions, with every problem named.

A folder is read like the operator mounts a ConfigMap: every ``*.yaml``/``*.yml``/``*.json``
file in it, skipping hidden entries (Kubernetes' ``..data`` symlinks). A file may hold several
YAML documents; ``Policy`` resources are accepted and kept, other kinds are refused.

Reading and judging are ``baton.definitions``', exactly what ``baton validate`` and the
operator run: the bounded YAML 1.2 reader (so the data served is the data validated) and the
same problems in the same words. Nothing of a refused file is served, and (on reload) the
version that was serving keeps serving.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from baton.definitions import WEIGHT_ANNOTATION, Judged, judge, read_items, version_of
from baton.dsl import Problem
from baton.engine import Catalog, CompileError
from baton.manifests import Policy, Workflow
from baton.server.definitions import Definition, Flow
from baton.server.errors import DefinitionProblem
from baton.server.intake import Intake

__all__ = ["WEIGHT_ANNOTATION", "LoadedFile", "load_file", "manifest_files"]

_SUFFIXES = (".yaml", ".yml", ".json")


class FlowFactory(Protocol):
    """Compiles one judged document; ``catalog`` holds what its ``run: workflow`` tasks may name."""

    def __call__(self, document: Mapping[str, Any], /, *, catalog: Catalog | None = None) -> Flow: ...


@dataclass(slots=True)
class LoadedFile:
    path: str
    #: What identifies the content read: modification time, inode and size. The inode matters
    #: for Kubernetes volume updates, which swap in new files (possibly with old timestamps).
    stamp: tuple[int, int, int]
    definitions: list[Definition] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    problems: list[DefinitionProblem] = field(default_factory=list)


def file_stamp(path: Path) -> tuple[int, int, int]:
    """Raises OSError when the file is gone."""
    status = path.stat()
    return (status.st_mtime_ns, status.st_ino, status.st_size)


def manifest_files(paths: Iterable[Path]) -> tuple[list[Path], list[DefinitionProblem]]:
    files: list[Path] = []
    problems: list[DefinitionProblem] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in _SUFFIXES
                    and p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            problems.append(DefinitionProblem(str(path), "", "no such file or folder"))
    return files, problems


def _told(problem: Problem, file: str) -> DefinitionProblem:
    return DefinitionProblem(problem.file or file, problem.path, problem.message)


def _weight(manifest: Workflow) -> int:
    """The stable version's weight (the annotation was judged to be an integer 0-100)."""
    raw = manifest.metadata.annotations.get(WEIGHT_ANNOTATION)
    if raw is not None:
        return int(raw)
    canary = manifest.spec.rollout.canary if manifest.spec.rollout else None
    return 100 - canary.weight if canary else 100


def _flow(
    document: Mapping[str, Any],
    file: str,
    prefix: str,
    factory: FlowFactory,
    problems: list[DefinitionProblem],
    catalog: Catalog,
) -> Flow | None:
    """The judged document bound to the server's environment and limits."""
    try:
        return factory(document, catalog=catalog)
    except CompileError as exc:
        # Judged compilable with the engine's default limits; the server's own may be tighter.
        problems.extend(
            DefinitionProblem(file, f"{prefix}.{path}", message) for path, message in exc.problems
        )
        return None


def _definitions(
    manifest: Workflow,
    file: str,
    factory: FlowFactory,
    problems: list[DefinitionProblem],
    catalog: Catalog,
) -> list[Definition]:
    document = manifest.spec.workflow
    canary = manifest.spec.rollout.canary if manifest.spec.rollout else None
    stable = _flow(document, file, "spec.workflow", factory, problems, catalog)
    canary_flow = (
        None
        if canary is None
        else _flow(canary.workflow, file, "spec.rollout.canary.workflow", factory, problems, catalog)
    )
    if stable is None or (canary is not None and canary_flow is None):
        return []
    endpoint = manifest.spec.endpoint
    name = manifest.metadata.name
    out = [
        Definition(
            name,
            version_of(document),
            file,
            manifest,
            document,
            stable,
            _weight(manifest),
            Intake(endpoint, document),
        )
    ]
    if canary is not None and canary_flow is not None:
        out.append(
            Definition(
                name,
                version_of(canary.workflow),
                file,
                manifest,
                canary.workflow,
                canary_flow,
                canary.weight,
                Intake(endpoint, canary.workflow),
                canary=True,
            )
        )
    return out


def _servable(judged: Judged) -> list[Problem]:
    """What ``baton validate`` says, plus a refusal of what a server cannot serve."""
    if judged.kind in ("foreign", "document"):
        raw = judged.item.raw
        kind = (
            f"{raw.get('apiVersion')} {raw.get('kind')}"
            if judged.kind == "foreign"
            else "a bare workflow document"
        )
        return [Problem("kind", f"expected a baton.dev Workflow or Policy, got {kind}", judged.item.file)]
    return judged.problems


def _catalog(judged: Sequence[Judged]) -> Catalog:
    """The file's workflow documents (stable and canary), for its ``run: workflow`` tasks."""
    documents: list[Mapping[str, Any]] = []
    for one in judged:
        if one.workflow is not None:
            documents.append(one.workflow.spec.workflow)
            rollout = one.workflow.spec.rollout
            if rollout is not None and rollout.canary is not None:
                documents.append(rollout.canary.workflow)
    return Catalog(documents)


def load_file(path: Path, *, factory: FlowFactory) -> LoadedFile:
    """Every definition and policy of one file, or the problems that refuse them.

    A file is all or nothing: if any of its documents is refused, none of them is served, so a
    half-edited file never serves half a change. Its documents are judged together, as
    ``baton validate FILE`` judges them.
    """
    file = str(path)
    try:
        stamp = file_stamp(path)
    except OSError as exc:
        return LoadedFile(
            file, (0, 0, 0), problems=[DefinitionProblem(file, "", f"cannot read: {exc.strerror}")]
        )
    loaded = LoadedFile(file, stamp)
    items, unreadable = read_items(path, origin=file)
    judged = judge(items)
    loaded.problems.extend(_told(p, file) for p in unreadable)
    loaded.problems.extend(_told(p, file) for one in judged for p in _servable(one))
    if loaded.problems:
        return loaded
    catalog = _catalog(judged)
    for one in judged:
        if one.workflow is not None:
            loaded.definitions.extend(
                _definitions(one.workflow, one.item.file or file, factory, loaded.problems, catalog)
            )
        elif one.policy is not None:
            loaded.policies.append(one.policy)
    if loaded.problems:
        loaded.definitions.clear()
        loaded.policies.clear()
    return loaded
