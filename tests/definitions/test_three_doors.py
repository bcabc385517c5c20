"""The three front doors judge a definition alike: ``baton validate``, ``baton serve``, the operator.

Each bad definition of the table is written as a manifest file and given to the CLI
(``main(["validate", ...])``), to the runtime server's loader and to the operator's validation
of the same object as the API server would hand it over; all three must name the same
problems, path for path and word for word.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton.cli.main import main
from baton.engine import compile_workflow
from baton.server.loading import load_file
from baton_operator.validation import validate_workflow

DOCUMENT: dict[str, Any] = {
    "document": {"dsl": "1.0.3", "namespace": "shop", "name": "greet", "version": "1.0.0"},
    "do": [{"greet": {"set": {"message": "hi"}}}],
}

Edit = Callable[[dict[str, Any]], None]


def _manifest(edit: Edit) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "baton.dev/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "greet"},
        "spec": {"endpoint": {"path": "/greet"}, "workflow": copy.deepcopy(DOCUMENT)},
    }
    edit(body)
    return body


def _tasks(*tasks: dict[str, Any]) -> Edit:
    def edit(body: dict[str, Any]) -> None:
        body["spec"]["workflow"]["do"] = list(tasks)

    return edit


def _canary(version: str, weight: int = 10) -> Edit:
    def edit(body: dict[str, Any]) -> None:
        canary = copy.deepcopy(DOCUMENT)
        canary["document"]["version"] = version
        body["spec"]["rollout"] = {"canary": {"weight": weight, "workflow": canary}}

    return edit


def _set(path: str, value: Any) -> Edit:
    def edit(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = value

    return edit


def _drop_version(body: dict[str, Any]) -> None:
    del body["spec"]["workflow"]["document"]["version"]


FORK = {"branches": [{"a": {"set": {"x": 1}}}, {"b": {"set": {"y": 1}}}]}

#: (id, edit, the problems every door must report as (path, start of message)).
TABLE: list[tuple[str, Edit, list[tuple[str, str]]]] = [
    (
        "flow-target-missing",
        _tasks({"greet": {"set": {"a": 1}, "then": "nowhere"}}),
        [("spec.workflow.do[0].greet.then", "'nowhere' is not a task in the same list")],
    ),
    (
        "unsupported-call",
        _tasks(
            {
                "rpc": {
                    "call": "grpc",
                    "with": {
                        "proto": {"endpoint": "https://x.example/p.proto"},
                        "service": {"name": "s", "host": "h"},
                        "method": "m",
                    },
                }
            }
        ),
        [("spec.workflow.do[0].rpc.call", "call: grpc is not supported by Baton")],
    ),
    (
        "join-quorum-out-of-range",
        _tasks({"fan": {"fork": FORK, "metadata": {"baton.join": "quorum", "baton.quorum": 5}}}),
        [("spec.workflow.do[0].fan.metadata", "baton.quorum must be an integer from 1")],
    ),
    (
        "unknown-join-policy",
        _tasks({"fan": {"fork": FORK, "metadata": {"baton.join": "most"}}}),
        [("spec.workflow.do[0].fan.metadata", "baton.join must be one of all, any, quorum; got 'most'")],
    ),
    (
        "compensation-names-nothing",
        _tasks({"pay": {"set": {"paid": True}, "metadata": {"baton.compensateBy": "refund"}}}),
        [
            (
                'spec.workflow.do[0].pay.metadata["baton.compensateBy"]',
                "compensating task 'refund' is not declared",
            )
        ],
    ),
    (
        "sub-workflow-missing",
        _tasks({"child": {"run": {"workflow": {"namespace": "shop", "name": "child", "version": "1.0.0"}}}}),
        [("spec.workflow.do[0].child.run.workflow", "workflow shop/child:1.0.0 is not in the catalog")],
    ),
    (
        "invalid-input-schema",
        _set("spec.workflow.input", {"schema": {"format": "json", "document": {"type": "nope"}}}),
        [("spec.workflow.input.schema", "invalid JSON Schema")],
    ),
    (
        "version-missing",
        _drop_version,
        [("spec.workflow.document", "missing required property 'version'")],
    ),
    (
        "canary-same-version",
        _canary("1.0.0"),
        [
            (
                "spec.rollout.canary.workflow.document.version",
                "the canary must have a different version from the stable workflow",
            )
        ],
    ),
    (
        "canary-document-broken",
        lambda body: (_canary("2.0.0")(body), body["spec"]["rollout"]["canary"]["workflow"].pop("do")),
        [("spec.rollout.canary.workflow", "missing required property 'do'")],
    ),
    (
        "valid-canary",
        _canary("2.0.0"),
        [],
    ),
    (
        "weight-annotation-not-a-number",
        _set("metadata.annotations", {"baton.dev/weight": "heavy"}),
        [("metadata.annotations[baton.dev/weight]", "must be an integer 0-100")],
    ),
    (
        "weight-annotation-too-big",
        _set("metadata.annotations", {"baton.dev/weight": "101"}),
        [("metadata.annotations[baton.dev/weight]", "must be an integer 0-100")],
    ),
    (
        "reserved-endpoint",
        _set("spec.endpoint", {"path": "/runs/all"}),
        [("spec.endpoint.path", "/runs/all is reserved")],
    ),
    (
        "manifest-field-wrong",
        _set("spec.endpoint", {"path": "/greet", "output": "raw"}),
        [("spec.endpoint.output", "must be one of: body, envelope, not 'raw'")],
    ),
    (
        "valid",
        lambda body: None,
        [],
    ),
]


def _cli(file: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str]]:
    code = main(["validate", "--output", "json", str(file)])
    report = json.loads(capsys.readouterr().out)
    assert code == (1 if report["problems"] else 0)
    assert all(p["file"] == str(file) for p in report["problems"])
    return [(p["path"], p["message"]) for p in report["problems"]]


def _server(file: Path) -> list[tuple[str, str]]:
    loaded = load_file(file, factory=compile_workflow)  # type: ignore[arg-type]
    assert all(p.file == str(file) for p in loaded.problems)
    if not loaded.problems:
        assert loaded.definitions, "a definition with no problems is served"
    return [(p.path, p.message) for p in loaded.problems]


def _operator(body: dict[str, Any]) -> list[tuple[str, str]]:
    # As the API server hands it over: server-owned fields beside the user's.
    listed = copy.deepcopy(body)
    listed["metadata"].update(namespace="shop", uid="u-1", generation=3, resourceVersion="9")
    listed["status"] = {"observedGeneration": 2}
    verdict = validate_workflow(listed)
    assert verdict.valid == (not verdict.findings)
    return [(f.path, f.message) for f in verdict.findings]


@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in TABLE], ids=[i for i, _, _ in TABLE])
def test_every_door_names_the_same_problems_of_a_definition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Edit, expected: list[tuple[str, str]]
) -> None:
    body = _manifest(edit)
    file = tmp_path / "flow.yaml"
    file.write_text(yaml.safe_dump(body, sort_keys=False))

    cli = _cli(file, capsys)
    assert _server(file) == cli
    assert _operator(body) == cli
    assert [path for path, _ in cli] == [path for path, _ in expected]
    for (_, message), (_, start) in zip(cli, expected, strict=True):
        assert message.startswith(start), message


def test_no_door_tags_a_message_that_already_says_it_is_unsupported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = _manifest(_tasks({"sh": {"run": {"shell": {"command": "ls"}}}}))
    file = tmp_path / "flow.yaml"
    file.write_text(yaml.safe_dump(body))
    messages = [m for _, m in _cli(file, capsys) + _server(file) + _operator(body)]
    assert len(messages) == 3
    assert all("not supported by Baton" in m and "[not supported" not in m for m in messages), messages
