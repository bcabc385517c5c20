"""The bundled example workflows: Baton ``Workflow`` manifests in the repository's ``examples/``.

Loading one goes through the same phases as any workflow (manifest model, DSL load and
validation, compilation), so a broken example is reported like a user's broken workflow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from baton.dsl import (
    DocumentError,
    Problem,
    load_document,
    problems_from_validation_error,
    read_document,
    validate,
)
from baton.engine import CompiledWorkflow, CompileError, compile_workflow
from baton.manifests import Workflow

__all__ = ["EXAMPLES_DIR", "Example", "ExampleError", "load_example"]

#: ``examples/`` of the source tree this package runs from (``baton demo --examples`` overrides).
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"


class ExampleError(Exception):
    """An example cannot be loaded; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Example:
    name: str
    path: Path
    manifest: Workflow
    compiled: CompiledWorkflow


def load_example(path: Path) -> Example:
    try:
        raw = read_document(path, origin=str(path))
    except DocumentError as exc:
        raise ExampleError(_listed(exc.problems)) from None
    try:
        manifest = Workflow.model_validate(raw)
    except ValidationError as exc:
        listed = _listed(problems_from_validation_error(exc, raw), with_file=False)
        raise ExampleError(f"{path}: not a valid Workflow manifest: {listed}") from None
    origin = f"{path}#spec.workflow"
    try:
        document = load_document(json.dumps(manifest.spec.workflow), origin=origin)
        problems = validate(document)
        if not problems:
            compiled = compile_workflow(document)
    except DocumentError as exc:
        problems = exc.problems
    except CompileError as exc:
        raise ExampleError(f"{origin}: {exc}") from exc
    if problems:
        raise ExampleError(f"{origin}: {_listed(problems, with_file=False)}")
    return Example(name=manifest.metadata.name, path=path, manifest=manifest, compiled=compiled)


def _listed(problems: list[Problem], *, with_file: bool = True) -> str:
    if with_file:
        return "; ".join(str(problem) for problem in problems)
    return "; ".join(f"{problem.path or '(document)'}: {problem.message}" for problem in problems)
