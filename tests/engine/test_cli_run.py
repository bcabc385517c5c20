"""``baton run``: output on stdout, timeline on request, exit codes 0 / 1 / 2, never a traceback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from baton.cli.main import main

FLOW = """\
document: {dsl: '1.0.3', namespace: demo, name: greet, version: '1.0.0'}
do:
  - choose:
      switch:
        - vip: {when: .vip, then: greetVip}
        - other: {then: greet}
  - greet:
      set: {message: '${ "Hello " + .name }'}
      then: end
  - greetVip:
      set: {message: '${ "Welcome back " + .name }'}
"""


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "greet.yaml"
    path.write_text(FLOW)
    return path


def test_run_prints_the_output_as_json_and_exits_0(flow: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(flow), "--input", '{"name": "Ann", "vip": true}']) == 0
    assert json.loads(capsys.readouterr().out) == {"message": "Welcome back Ann"}


def test_run_with_timeline_prints_a_table_of_tasks_and_decisions(
    flow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(flow), "--input", '{"name": "Bo"}', "--timeline"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"message": "Hello Bo"}
    lines = captured.err.splitlines()
    assert lines[0].split() == ["#", "task", "kind", "status", "tries", "ms", "notes"]
    assert "/do/0/choose" in lines[1]
    assert 'case="other"' in lines[1]
    assert "/do/1/greet" in lines[2]
    assert "completed" in lines[-1]


def test_run_with_json_output_prints_the_whole_result(flow: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(flow), "--input", '{"name": "Cy"}', "--timeline", "--output", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "completed"
    assert [t["name"] for t in result["timeline"]] == ["choose", "greet"]


def test_a_faulted_run_prints_the_problem_details_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fail.yaml"
    path.write_text(
        "document: {dsl: '1.0.3', namespace: demo, name: fail, version: '1.0.0'}\n"
        "do:\n  - refuse:\n      raise:\n"
        "        error: {type: 'https://example.com/no', status: 409, title: Nope}\n"
    )
    assert main(["run", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "run faulted: Nope (409) at /do/0/refuse" in captured.err
    assert "Traceback" not in captured.err


def test_an_invalid_document_exits_2_with_the_validation_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("document: {dsl: '1.0.3', namespace: demo, name: bad, version: '1.0.0'}\ndo: 5\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "Traceback" not in err


@pytest.mark.parametrize("bad_input", ["{not json", "@/nonexistent/input.json"])
def test_bad_input_is_a_usage_error(flow: Path, bad_input: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(flow), "--input", bad_input]) == 2
    assert "--input" in capsys.readouterr().err


class _Pets(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"id": 7, "name": "milou", "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def pets() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pets)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_baton_command_calls_a_mapped_public_host(tmp_path: Path, pets: str) -> None:
    path = tmp_path / "pet.yaml"
    path.write_text(
        "document: {dsl: '1.0.3', namespace: demo, name: pet, version: '1.0.0'}\n"
        "do:\n  - getPet:\n      call: http\n      with:\n        method: get\n"
        "        endpoint: https://petstore.swagger.io/v2/pet/{petId}\n"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from baton.cli.main import main; sys.exit(main())",
            "run",
            str(path),
            "--input",
            '{"petId": 7}',
            "--map-host",
            f"petstore.swagger.io={pets}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"id": 7, "name": "milou", "path": "/v2/pet/7"}


def test_the_timeline_never_shows_secret_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "secret.yaml"
    flow.write_text(
        "document: {dsl: '1.0.3', namespace: demo, name: secret, version: '1.0.0'}\n"
        "use: {secrets: [api]}\n"
        "do:\n  - build:\n      set: {auth: '${ \"Key \" + $secrets.api.key }'}\n"
        "  - done:\n      set: {ok: true}\n"
    )
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("api: {key: very-secret-key}\n")
    code = main(["run", str(flow), "--secrets", str(secrets), "--timeline", "--output", "json"])
    assert code == 0
    out = capsys.readouterr().out
    assert "very-secret-key" not in out
    result = json.loads(out)
    assert result["timeline"][0]["output"] == {"auth": "Key ***"}
    assert result["output"] == {"ok": True}


def test_catalog_documents_can_be_run_as_sub_workflows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "double.yaml").write_text(
        "document: {dsl: '1.0.3', namespace: lib, name: double, version: '1.0.0'}\n"
        "do:\n  - twice:\n      set: {n: '${ .n * 2 }'}\n"
    )
    main_flow = tmp_path / "main.yaml"
    main_flow.write_text(
        "document: {dsl: '1.0.3', namespace: demo, name: main, version: '1.0.0'}\n"
        "do:\n  - sub:\n      run:\n        workflow: {namespace: lib, name: double, version: '1.0.0'}\n"
    )
    assert main(["run", str(main_flow), "--input", '{"n": 4}', "--catalog", str(library)]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 8}


def test_the_step_budget_can_be_set_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spin = tmp_path / "spin.yaml"
    spin.write_text(
        "document: {dsl: '1.0.3', namespace: demo, name: spin, version: '1.0.0'}\n"
        "do:\n  - again:\n      set: {n: 1}\n      then: again\n"
    )
    assert main(["run", str(spin), "--max-steps", "25"]) == 1
    err = capsys.readouterr().err
    assert "Step budget exhausted" in err
    assert "more than 25 tasks" in err


MANIFEST = """\
apiVersion: baton.dev/v1alpha1
kind: Workflow
metadata: {name: bump}
spec:
  endpoint: {method: POST, path: /bump}
  workflow:
    document: {dsl: '1.0.3', namespace: demo, name: bump, version: '1.0.0'}
    do:
      - bump:
          set: {n: '${ .n + 1 }'}
"""


def test_a_workflow_manifest_runs_the_document_under_spec_workflow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bump.yaml"
    path.write_text(MANIFEST)
    assert main(["run", str(path), "--input", '{"n": 1}']) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 2}


def test_problems_in_a_manifest_are_located_under_spec_workflow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(MANIFEST + "      - missing:\n          call: nowhere\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: spec.workflow.do[1].missing.call: function 'nowhere' is not declared" in err
    assert "Traceback" not in err


def test_a_manifest_without_its_required_fields_is_refused_like_baton_validate_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "no-endpoint.yaml"
    path.write_text(MANIFEST.replace("  endpoint: {method: POST, path: /bump}\n", ""))
    assert main(["validate", str(path)]) == 1
    refused = capsys.readouterr().out.splitlines()
    assert any("endpoint" in line for line in refused)
    assert main(["run", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == refused


def test_a_file_holding_no_workflow_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("apiVersion: baton.dev/v1alpha1\nkind: Policy\nmetadata: {name: open}\nspec: {}\n")
    assert main(["run", str(path)]) == 2
    assert f"{path}: holds no workflow to run" in capsys.readouterr().err


def test_the_first_workflow_of_a_stream_runs_and_the_others_are_its_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stream.yaml"
    path.write_text(
        MANIFEST
        + "      - twice:\n          run:\n"
        + "            workflow: {namespace: lib, name: double, version: '1.0.0'}\n"
        + "---\n"
        + "document: {dsl: '1.0.3', namespace: lib, name: double, version: '1.0.0'}\n"
        + "do:\n  - twice:\n      set: {n: '${ .n * 2 }'}\n"
    )
    assert main(["run", str(path), "--input", '{"n": 3}']) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 8}


async def test_the_bundled_hello_manifest_runs_from_the_command_line_against_the_shop() -> None:
    from baton.demo import EXAMPLES_DIR, Shop, serve

    async with serve(Shop(latency_scale=0.0)) as base_url:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from baton.cli.main import main; sys.exit(main())",
            "run",
            str(EXAMPLES_DIR / "hello.yaml"),
            "--input",
            '{"userId": 42}',
            "--map-host",
            f"users.shop.internal={base_url}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    output = json.loads(out)
    assert output["greeting"] == "Hello, Ada Lovelace!"
