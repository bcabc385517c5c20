"""The bundled example workflows: Baton ``Workflow`` manifests in the repository's ``examples/``.

Loading one is ``baton.definitions``' judgement, the one ``baton validate`` and ``baton serve``
make, so a broken example is reported like a user's broken workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from baton.definitions import judge, read_items
from baton.dsl import Problem
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
    items, unreadable = read_items(path, origin=str(path))
    if unreadable:
        raise ExampleError(_listed(unreadable))
    if len(items) != 1:
        raise ExampleError(f"{path}: holds {len(items)} documents; an example is one Workflow manifest")
    (judged,) = judge(items)
    problems = judged.problems
    outside = [p for p in problems if not p.path.startswith("spec.workflow")]
    if judged.kind != "Workflow" or outside:
        listed = _listed(outside, with_file=False) if outside else "not a baton.dev Workflow"
        raise ExampleError(f"{path}: not a valid Workflow manifest: {listed}")
    origin = f"{path}#spec.workflow"
    if problems or judged.workflow is None:
        inside = [_within(p, "spec.workflow") for p in problems]
        raise ExampleError(f"{origin}: {_listed(inside, with_file=False)}")
    manifest = judged.workflow
    try:
        compiled = compile_workflow(manifest.spec.workflow)
    except CompileError as exc:  # judged compilable: only a bug in the engine gets here
        raise ExampleError(f"{origin}: {exc}") from exc
    return Example(name=manifest.metadata.name, path=path, manifest=manifest, compiled=compiled)


def _within(problem: Problem, prefix: str) -> Problem:
    path = problem.path.removeprefix(prefix).removeprefix(".")
    return Problem(path, problem.message, problem.file, problem.severity)


def _listed(problems: list[Problem], *, with_file: bool = True) -> str:
    if with_file:
        return "; ".join(str(problem) for problem in problems)
    return "; ".join(f"{problem.path or '(document)'}: {problem.message}" for problem in problems)
