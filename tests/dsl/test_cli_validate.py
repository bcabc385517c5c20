"""``baton validate``: exit codes, the text and JSON reports, folders, manifests, junk."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from baton.cli.main import main

from .conftest import DOCUMENTS

VALID = (
    "document: {dsl: '1.0.3', namespace: default, name: ok, version: '1.0.0'}\ndo:\n  - a: {set: {x: 1}}\n"
)
INVALID = (
    "document: {dsl: '1.0.3', namespace: default, name: bad, version: '1.0.0'}\n"
    "do:\n"
    "  - first: {set: {x: 1}}\n"
    "  - second: {set: {x: 1}}\n"
    "  - fetchUser:\n"
    "      call: grpc\n"
    "      with: {proto: {endpoint: 'https://x.example'}, service: {name: s, host: h}, method: m}\n"
    "  - jump: {set: {x: 1}, then: nowhere}\n"
)


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_valid_files_exit_0_with_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = write(tmp_path, "ok.yaml", VALID)
    assert main(["validate", str(file), str(DOCUMENTS / "minimal.json")]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "2 files checked, all valid"


def test_problems_are_printed_one_per_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, "bad.yaml", INVALID)
    assert main(["validate", str(file)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{file}: do[2].fetchUser.call: call: grpc is not supported by Baton",
        f"{file}: do[3].jump.then: 'nowhere' is not a task in the same list; "
        "expected one of: continue, exit, end, first, second, fetchUser, jump",
    ]
    assert err.strip() == "1 file checked, 2 problems"


def test_json_output_lists_file_path_message_and_severity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, "bad.yaml", INVALID)
    assert main(["validate", "--output", "json", str(file)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["files"] == 1
    assert report["problems"][0] == {
        "file": str(file),
        "path": "do[2].fetchUser.call",
        "message": "call: grpc is not supported by Baton",
        "severity": "unsupported",
    }
    assert [p["severity"] for p in report["problems"]] == ["unsupported", "error"]


def test_json_output_of_valid_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--output", "json", str(write(tmp_path, "ok.yaml", VALID))]) == 0
    assert json.loads(capsys.readouterr().out) == {"valid": True, "files": 1, "problems": []}


def test_folders_are_searched_recursively_for_yaml_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "a.yaml", VALID)
    write(tmp_path, "nested/deeper/b.yml", VALID)
    write(tmp_path, "nested/c.json", '{"document": {"dsl": "1.0.3"}}')
    write(tmp_path, "notes.txt", "not a workflow")
    assert main(["validate", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    c = tmp_path / "nested" / "c.json"
    assert out.splitlines() == [
        f"{c}: missing required property 'do'",
        f"{c}: document: missing required property 'namespace'",
        f"{c}: document: missing required property 'name'",
        f"{c}: document: missing required property 'version'",
    ]
    assert err.strip() == "3 files checked, 4 problems"


def test_a_baton_manifest_is_checked_with_paths_into_its_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(DOCUMENTS / "baton-manifest.yaml")]) == 0
    capsys.readouterr()
    manifest = (
        "apiVersion: baton.dev/v1alpha1\nkind: Workflow\nmetadata: {name: greet}\n"
        "spec:\n  endpoint: {path: /greet, method: FETCH}\n  workflow:\n"
        "    document: {dsl: '1.0.3', namespace: default, name: greet, version: '1.0.0'}\n"
        "    do:\n      - greet: {set: {message: hi}, then: away}\n"
    )
    file = write(tmp_path, "flow.yaml", manifest)
    assert main(["validate", str(file)]) == 1
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith(f"{file}: spec.endpoint.method: ")
    assert lines[1] == (
        f"{file}: spec.workflow.do[0].greet.then: 'away' is not a task in the same list; "
        "expected one of: continue, exit, end, greet"
    )


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01\x02\xff" * 100,
        b"- just\n- a list\n",
        b"a: [unclosed\n",
        b"a: &x [*x]\n",
        b"",
        "\u00e9t\u00e9: ok".encode("latin-1"),
    ],
    ids=["binary", "list", "broken-yaml", "recursive-alias", "empty", "latin-1"],
)
def test_junk_files_are_problems_never_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    file = write(tmp_path, "junk.yaml", content)
    assert main(["validate", str(file)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{file}: ")
    assert "Traceback" not in out + err


def test_a_missing_path_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 1
    assert capsys.readouterr().out.strip() == f"{missing}: no such file or folder"


def test_an_empty_folder_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 1
    assert capsys.readouterr().out.strip() == f"{tmp_path}: holds no .yaml, .yml or .json files"


def test_a_kubernetes_stream_checks_baton_resources_and_skips_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\nspec: {replicas: 1}\n"
        "---\n"
        "apiVersion: baton.dev/v1alpha1\nkind: Policy\nmetadata: {name: p}\nspec: {surprise: 1}\n"
        "---\n" + (DOCUMENTS / "baton-manifest.yaml").read_text().replace("then", "x") + "---\n"
        "apiVersion: baton.dev/v1alpha1\nkind: Gadget\nmetadata: {name: g}\n"
    )
    file = write(tmp_path, "all.yaml", stream)
    assert main(["validate", str(file)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{file}#2: spec.surprise: unknown property 'surprise'",
        f"{file}#4: kind: unknown Baton resource kind 'Gadget' (Workflow or Policy)",
    ]
    assert err.strip() == "1 file checked, 2 problems"


PARENT = (
    "document: {dsl: '1.0.3', namespace: shop, name: parent, version: '1.0.0'}\n"
    "do:\n"
    "  - child:\n"
    "      run: {workflow: {namespace: shop, name: child, version: '1.0.0'}}\n"
    "  - fan:\n"
    "      fork: {branches: [{a: {set: {x: 1}}}, {b: {set: {y: 1}}}]}\n"
    "      metadata: {baton.join: quorum, baton.quorum: QUORUM}\n"
)
CHILD = (
    "document: {dsl: '1.0.3', namespace: shop, name: child, version: '1.0.0'}\ndo:\n  - hi: {set: {x: 1}}\n"
)


def test_sub_workflows_resolve_among_the_documents_validated_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = write(tmp_path, "parent.yaml", PARENT.replace("QUORUM", "2"))
    write(tmp_path, "child.yaml", CHILD)
    assert main(["validate", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(parent)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{parent}: do[0].child.run.workflow: workflow shop/child:1.0.0 is not in the catalog"
    ]


def test_the_engines_extensions_are_checked_by_compiling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = write(tmp_path, "parent.yaml", PARENT.replace("QUORUM", "5"))
    write(tmp_path, "child.yaml", CHILD)
    assert main(["validate", str(tmp_path)]) == 1
    ((line),) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{parent}: do[1].fan.metadata: baton.quorum must be an integer from 1")


def test_a_dash_reads_the_document_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Stdin:
        buffer = io.BytesIO(INVALID.encode())

    monkeypatch.setattr(sys, "stdin", Stdin)
    assert main(["validate", "-"]) == 1
    assert (
        capsys.readouterr().out.splitlines()[0]
        == "<stdin>: do[2].fetchUser.call: call: grpc is not supported by Baton"
    )


MANIFEST = (DOCUMENTS / "baton-manifest.yaml").read_text()
KUSTOMIZATION = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - flow.yaml\n"
)
PATCH = (
    "apiVersion: baton.dev/v1alpha1\nkind: Workflow\nmetadata: {name: greet}\n"
    "spec:\n  rollout:\n    canary:\n      weight: 10\n      workflow:\n"
    "        document: {dsl: '1.0.3', namespace: default, name: greet, version: 'VERSION'}\n"
    "        do:\n          - greet: {set: {message: hi}}\n"
)


def test_a_kustomize_folder_reads_unlisted_files_as_patches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "kustomization.yaml", KUSTOMIZATION)
    write(tmp_path, "flow.yaml", MANIFEST)
    patch = write(tmp_path, "canary.yaml", PATCH.replace("VERSION", "2.0.0"))
    assert main(["validate", str(tmp_path)]) == 0
    capsys.readouterr()
    patch.write_text(PATCH.replace("VERSION", "two"))
    assert main(["validate", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{patch}: spec.rollout.canary.workflow.document.version: "
        "must be a semantic version such as 1.0.0 (quote it in YAML)"
    ]


def test_the_same_patch_named_alone_is_checked_as_a_whole_resource(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patch = write(tmp_path, "canary.yaml", PATCH.replace("VERSION", "2.0.0"))
    assert main(["validate", str(patch)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{patch}: spec: missing required property 'endpoint'",
        f"{patch}: spec: missing required property 'workflow'",
    ]


def test_yaml_that_is_not_a_workflow_is_skipped_in_folders_but_not_when_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fragment = write(tmp_path, "values.yaml", "data:\n  key: value\n")
    write(tmp_path, "ok.yaml", VALID)
    assert main(["validate", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(fragment)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{fragment}: missing required property 'document'",
        f"{fragment}: missing required property 'do'",
        f"{fragment}: data: unknown property 'data'",
    ]
