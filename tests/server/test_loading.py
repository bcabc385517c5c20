"""The server's loader: files into definitions, refused in ``baton validate``'s words."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.cli.main import main
from baton.engine import compile_workflow
from baton.server.loading import load_file

WORKFLOW = (
    "apiVersion: baton.dev/v1alpha1\nkind: Workflow\nmetadata: {name: NAME}\n"
    "spec:\n  endpoint: {path: /NAME}\n  workflow:\n"
    "    document: {dsl: '1.0.3', namespace: shop, name: NAME, version: '1.0.0'}\n"
    "    do:\n      - hi: {set: {x: 1}, then: THEN}\n"
)


def _workflow(name: str, then: str = "end") -> str:
    return WORKFLOW.replace("NAME", name).replace("THEN", then)


def _load(path: Path) -> list[str]:
    return [str(p) for p in load_file(path, factory=compile_workflow).problems]  # type: ignore[arg-type]


def test_a_stream_names_its_nth_document_like_validate_and_skips_empty_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "flows.yaml"
    file.write_text("---\n" + _workflow("a") + "---\n---\n" + _workflow("b", then="nowhere") + "---\n")
    assert main(["validate", str(file)]) == 1
    told = capsys.readouterr().out.splitlines()
    assert told == [
        f"{file}#2: spec.workflow.do[0].hi.then: 'nowhere' is not a task in the same list; "
        "expected one of: continue, exit, end, hi"
    ]
    assert _load(file) == told


def test_a_valid_stream_serves_every_workflow_and_policy_in_it(tmp_path: Path) -> None:
    file = tmp_path / "flows.yaml"
    policy = "apiVersion: baton.dev/v1alpha1\nkind: Policy\nmetadata: {name: open}\nspec: {}\n"
    file.write_text(_workflow("a") + "---\n" + _workflow("b") + "---\n" + policy)
    loaded = load_file(file, factory=compile_workflow)  # type: ignore[arg-type]
    assert not loaded.problems
    assert [d.name for d in loaded.definitions] == ["a", "b"]
    assert [p.metadata.name for p in loaded.policies] == ["open"]


@pytest.mark.parametrize(
    ("text", "told"),
    [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            "kind: expected a baton.dev Workflow or Policy, got v1 ConfigMap",
        ),
        (
            "document: {dsl: '1.0.3', namespace: a, name: b, version: '1.0.0'}\ndo: [{a: {set: {x: 1}}}]\n",
            "kind: expected a baton.dev Workflow or Policy, got a bare workflow document",
        ),
        ("", "is empty: a workflow document is a mapping with document and do"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
    ],
    ids=["foreign-resource", "bare-document", "empty", "duplicate-key"],
)
def test_what_a_server_cannot_serve_is_refused_with_a_plain_reason(
    tmp_path: Path, text: str, told: str
) -> None:
    file = tmp_path / "flow.yaml"
    file.write_text(text)
    (problem,) = _load(file)
    assert problem.startswith(f"{file}: ")
    assert told in problem


def test_a_file_that_cannot_be_read_is_refused_not_raised(tmp_path: Path) -> None:
    file = tmp_path / "flow.yaml"
    file.write_bytes(b"\xff\xfe not text")
    (problem,) = _load(file)
    assert problem.startswith(f"{file}: is not UTF-8 text")
