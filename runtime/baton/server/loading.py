"""Manifests from files and folders into servable definitions, with every problem named.

A folder is read like the operator mounts a ConfigMap: every ``*.yaml``/``*.yml``/``*.json``
file in it, skipping hidden entries (Kubernetes' ``..data`` symlinks). A file may hold several
YAML documents; ``Policy`` resources are accepted and kept, other kinds are refused.

A document is refused with the messages ``baton validate`` prints for it; nothing of a refused
manifest is served, and (on reload) the version that was serving keeps serving.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from baton.dsl import validate
from baton.engine import CompileError
from baton.manifests import Policy, Workflow
from baton.server.definitions import Definition, Flow
from baton.server.errors import DefinitionProblem
from baton.server.intake import Intake, schema_problems

__all__ = ["WEIGHT_ANNOTATION", "LoadedFile", "load_file", "manifest_files"]

#: Relative traffic weight of a manifest's version when several manifests of one workflow are
#: loaded (the operator's canary rendering); a canary inside one manifest uses its own weight.
WEIGHT_ANNOTATION = "baton.dev/weight"

_SUFFIXES = (".yaml", ".yml", ".json")

FlowFactory = Callable[[Mapping[str, Any]], Flow]


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


def _location(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _dsl_problems(raw: Mapping[str, Any], file: str, prefix: str) -> list[DefinitionProblem]:
    """What ``baton validate`` says about a workflow document (schema, semantics, support)."""
    out = []
    for problem in validate(raw, file=file):
        tag = " [not supported by Baton]" if problem.severity == "unsupported" else ""
        path = f"{prefix}.{problem.path}" if problem.path else prefix
        out.append(DefinitionProblem(file, path, problem.message + tag))
    return out


def _version(raw: Mapping[str, Any]) -> str:
    meta = raw.get("document")
    return str(meta.get("version", "")) if isinstance(meta, Mapping) else ""


def _flow(
    raw: Mapping[str, Any], file: str, prefix: str, factory: FlowFactory, problems: list[DefinitionProblem]
) -> Flow | None:
    found = _dsl_problems(raw, file, prefix)
    found += [DefinitionProblem(file, prefix + ".input.schema", m) for m in schema_problems(raw)]
    if not _version(raw):
        found.append(DefinitionProblem(file, prefix + ".document.version", "a version is required"))
    if found:
        problems.extend(found)
        return None
    try:
        return factory(raw)
    except CompileError as exc:
        problems.extend(
            DefinitionProblem(file, f"{prefix}.{path}", message) for path, message in exc.problems
        )
        return None


def _weight(manifest: Workflow, file: str, problems: list[DefinitionProblem]) -> int:
    raw = manifest.metadata.annotations.get(WEIGHT_ANNOTATION)
    canary = manifest.spec.rollout.canary if manifest.spec.rollout else None
    if raw is None:
        return 100 - canary.weight if canary else 100
    try:
        weight = int(raw)
    except ValueError:
        weight = -1
    if not 0 <= weight <= 100:
        problems.append(
            DefinitionProblem(file, f"metadata.annotations[{WEIGHT_ANNOTATION}]", "must be an integer 0-100")
        )
        return 0
    return weight


def _definitions(
    data: Mapping[str, Any], file: str, factory: FlowFactory, problems: list[DefinitionProblem]
) -> list[Definition]:
    try:
        manifest = Workflow.model_validate(data)
    except ValidationError as exc:
        problems.extend(DefinitionProblem(file, _location(e["loc"]), e["msg"]) for e in exc.errors())
        return []
    before = len(problems)
    weight = _weight(manifest, file, problems)
    document = manifest.spec.workflow
    stable = _flow(document, file, "spec.workflow", factory, problems)
    canary_flow = None
    canary = manifest.spec.rollout.canary if manifest.spec.rollout else None
    if canary is not None:
        canary_flow = _flow(canary.workflow, file, "spec.rollout.canary.workflow", factory, problems)
        if _version(canary.workflow) == _version(document):
            problems.append(
                DefinitionProblem(
                    file,
                    "spec.rollout.canary.workflow.document.version",
                    "the canary must have a different version from the stable workflow",
                )
            )
    if len(problems) > before or stable is None:
        return []
    endpoint = manifest.spec.endpoint
    out = [
        Definition(
            manifest.metadata.name,
            _version(document),
            file,
            manifest,
            document,
            stable,
            weight,
            Intake(endpoint, document),
        )
    ]
    if canary is not None and canary_flow is not None:
        out.append(
            Definition(
                manifest.metadata.name,
                _version(canary.workflow),
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


def load_file(path: Path, *, factory: FlowFactory) -> LoadedFile:
    """Every definition and policy of one file, or the problems that refuse them.

    A file is all or nothing: if any of its documents is refused, none of them is served, so a
    half-edited file never serves half a change.
    """
    file = str(path)
    try:
        stamp = file_stamp(path)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        return LoadedFile(file, (0, 0, 0), problems=[DefinitionProblem(file, "", f"cannot read: {reason}")])
    loaded = LoadedFile(file, stamp)
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        loaded.problems.append(DefinitionProblem(file, "", f"not valid YAML/JSON: {where}{exc}"))
        return loaded
    for index, data in enumerate(documents):
        prefix = f"[document {index}] " if len(documents) > 1 else ""
        problems: list[DefinitionProblem] = []
        kind = data.get("kind") if isinstance(data, Mapping) else None
        if kind == "Workflow":
            loaded.definitions.extend(_definitions(data, file, factory, problems))
        elif kind == "Policy":
            try:
                loaded.policies.append(Policy.model_validate(data))
            except ValidationError as exc:
                problems.extend(DefinitionProblem(file, _location(e["loc"]), e["msg"]) for e in exc.errors())
        else:
            problems.append(
                DefinitionProblem(file, "kind", f"expected a baton.dev Workflow or Policy, got {kind!r}")
            )
        loaded.problems.extend(
            DefinitionProblem(p.file, prefix + p.path if p.path else prefix.strip(), p.message)
            for p in problems
        )
    if loaded.problems:
        loaded.definitions.clear()
        loaded.policies.clear()
    return loaded
