"""``baton run`` against every bad input we could think of: a message naming what and where,
the documented exit code, and never a traceback."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web

from baton.cli.main import main

from ._support import upstream

OK = """\
document: {dsl: '1.0.3', namespace: demo, name: echo, version: '1.0.0'}
do:
  - echo:
      set: {x: '${ . }'}
"""

#: 9 levels of 9 aliases: about 390 million values once expanded, a few hundred bytes on disk.
BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)
)


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "echo.yaml"
    path.write_text(OK)
    return path


def _flow(folder: Path, name: str, rest: str) -> Path:
    """A workflow file named ``name`` whose document header is written for it."""
    path = folder / f"{name}.yaml"
    path.write_text(f"document: {{dsl: '1.0.3', namespace: demo, name: {name}, version: '1.0.0'}}\n{rest}")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xe9\x00\xff binary junk \x00", "is not UTF-8 text (byte 0xe9 at offset 0)"),
        (BOMB.encode(), "more than 1,000,000 values once YAML aliases are expanded"),
        (b"[" * 5000 + b"]" * 5000, "nested deeper than 128 levels"),
        (b"do:\n" + b"".join(b"  " * n + b"- a:\n" for n in range(1, 400)), "nested deeper than 128"),
        (b"# padding\n" + b"#" * (10 * 1024 * 1024 + 1) + b"\n", "is larger than the 10.0 MB"),
        (b"", "is empty"),
        (b"- just\n- a list\n", "must be a mapping"),
    ],
    ids=["binary", "yaml-bomb", "deep-json", "deep-yaml", "10-mb", "empty", "list"],
)
def test_an_unreadable_workflow_file_is_named_with_its_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    code, out, err = _run(capsys, str(path))
    assert code == 2
    assert out == ""
    assert err.startswith(f"{path}: ")
    assert message in err


def test_a_missing_file_and_a_folder_are_usage_errors_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, str(tmp_path / "nope.yaml"))
    assert (code, err) == (2, f"baton run: {tmp_path / 'nope.yaml'}: no such file\n")
    code, _, err = _run(capsys, str(tmp_path))
    assert code == 2
    assert f"{tmp_path}: is a folder" in err


def test_a_task_kind_baton_does_not_run_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _flow(
        tmp_path,
        "sh",
        "do:\n  - first:\n      set: {ran: true}\n  - sh:\n      run:\n        shell: {command: ls}\n",
    )
    code, out, err = _run(capsys, str(path))
    assert (code, out) == (2, "")
    assert f"{path}: do[1].sh.run.shell:" in err
    assert "not supported by Baton" in err


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("{not json", "--input is not valid JSON: Expecting property name"),
        ("", "--input is not valid JSON: Expecting value"),
        ("NaN", "--input is not valid JSON: NaN is not a JSON number"),
        ("[1, -Infinity]", "--input is not valid JSON: -Infinity is not a JSON number"),
        ("[1e999]", "--input is not valid JSON: 1e999 is out of range"),
        (
            "[" * 100_000 + "]" * 100_000,
            "--input is not valid JSON: arrays and objects are nested deeper than 128",
        ),
    ],
    ids=["syntax", "empty", "nan", "infinity", "overflow", "deep"],
)
def test_an_input_that_is_not_json_is_a_usage_error(
    flow: Path, capsys: pytest.CaptureFixture[str], given: str, message: str
) -> None:
    code, out, err = _run(capsys, str(flow), "--input", given)
    assert (code, out) == (2, "")
    assert message in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BOMB.encode(), "more than 1,000,000 values"),
        (b"\xff\xfe", "is not UTF-8 text"),
        (b"[" * 600 + b"]" * 600, "nested deeper than 128 levels"),
        (b"a: 1\n---\nb: 2\n", "holds 2 YAML documents, not one value"),
    ],
    ids=["yaml-bomb", "binary", "deep", "stream"],
)
@pytest.mark.parametrize("option", ["--input", "--secrets"])
def test_input_and_secrets_files_are_read_under_the_same_bounds_as_documents(
    flow: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    content: bytes,
    message: str,
) -> None:
    data = tmp_path / "data.yaml"
    data.write_bytes(content)
    value = f"@{data}" if option == "--input" else str(data)
    code, out, err = _run(capsys, str(flow), option, value)
    assert (code, out) == (2, "")
    assert f"baton run: {option} file {data}: " in err
    assert message in err


def test_an_input_file_may_be_yaml(flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "input.yaml"
    data.write_text("name: Ann\ntags: [a, b]\n")
    code, out, _ = _run(capsys, str(flow), "--input", f"@{data}")
    assert code == 0
    assert json.loads(out) == {"x": {"name": "Ann", "tags": ["a", "b"]}}


@pytest.mark.parametrize("steps", ["0", "-5", "many"])
def test_a_step_budget_below_one_is_a_usage_error(
    flow: Path, capsys: pytest.CaptureFixture[str], steps: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(flow), "--max-steps", steps])
    assert exit_.value.code == 2
    assert "--max-steps" in capsys.readouterr().err


def test_an_input_violating_the_input_schema_faults_the_run_at_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _flow(
        tmp_path,
        "typed",
        "input:\n  schema:\n    format: json\n"
        "    document: {type: object, required: [n], properties: {n: {type: integer}}}\n"
        "do:\n  - a:\n      set: {ok: true}\n",
    )
    code, out, err = _run(capsys, str(path), "--input", '{"n": "seven"}')
    assert (code, out) == (1, "")
    assert "workflow input does not match its schema at $.n: 'seven' is not of type 'integer'" in err
    assert '"instance": "/input"' in err


def test_a_runtime_fault_names_the_task_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _flow(
        tmp_path,
        "divide",
        "do:\n  - divide:\n      set: {x: '${ .a / 0 }'}\n",
    )
    code, out, err = _run(capsys, str(path), "--input", '{"a": 1}')
    assert (code, out) == (1, "")
    assert "cannot be divided because the divisor is zero" in err
    assert '"instance": "/do/0/divide"' in err


def test_an_unreachable_upstream_is_a_communication_fault_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _flow(
        tmp_path,
        "call",
        "do:\n  - fetch:\n      call: http\n"
        "      with: {method: get, endpoint: 'http://127.0.0.1:9/nothing-listens-here'}\n",
    )
    code, _, err = _run(capsys, str(path))
    assert code == 1
    assert "communication" in err
    assert '"instance": "/do/0/fetch"' in err


def test_a_lone_surrogate_in_the_input_is_refused_with_where(
    flow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # RFC 8259 8.2 leaves such text to each parser's whim; the server refuses it too.
    code, out, err = _run(capsys, str(flow), "--input", '{"a": ["ok", "\\ud800"]}')
    assert (code, out) == (2, "")
    assert "--input is not valid JSON: the string holds an unpaired UTF-16 surrogate (\\ud800)" in err
    assert "at /a/1" in err
    assert "failed unexpectedly" not in err


_CHILD = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from baton.cli.main import main; sys.exit(main())"
)


async def test_ctrl_c_cancels_the_run_in_flight_and_exits_130(tmp_path: Path) -> None:
    arrived = asyncio.Event()

    async def hold(request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.Event().wait()  # until the client goes away
        raise AssertionError("unreachable")

    async with upstream({("GET", "/slow"): hold}) as server:
        path = _flow(
            tmp_path,
            "slow",
            "do:\n  - fetch:\n      call: http\n"
            f"      with: {{method: get, endpoint: '{server.url('/slow')}'}}\n",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD,
            "run",
            str(path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.wait_for(arrived.wait(), timeout=60)
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 130
    assert out == b""
    assert err.decode() == "baton run: interrupted: the run was cancelled (its calls and timers stopped)\n"


def test_a_reader_that_goes_away_early_gets_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "echo.yaml"
    path.write_text(OK)
    data = tmp_path / "big.json"
    data.write_text(json.dumps(list(range(100_000))))  # far more output than a pipe buffers
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, "run", str(path), "--input", f"@{data}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.read(10) == b'{\n  "x": ['
        process.stdout.close()  # like `| head`
        err = process.stderr.read()
        assert process.wait(timeout=60) == 0
    assert b"Traceback" not in err


def test_a_timeline_too_deep_to_print_is_left_out_of_valid_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "[" * 3000 + "1" + "]" * 3000
    tasks = f"do:\n  - a:\n      set: {{x: '${{ {deep} }}'}}\n  - b:\n      set: {{y: 1}}\n"
    path = _flow(tmp_path, "deep", tasks)
    code, out, err = _run(capsys, str(path), "--timeline", "--output", "json")
    assert code == 0
    assert json.loads(out)["output"] == {"y": 1}
    assert "timeline holds a value nested too deeply to print; left out" in err
