"""``baton demo`` end to end: the real upstream on loopback, the real examples, the real engine."""

import io
from pathlib import Path

import pytest

from baton.cli.main import main
from baton.demo import DEMO_RUNS, EXAMPLES_DIR, ExampleError, load_example, run_demo


def test_baton_demo_runs_every_example_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Hello, Ada Lovelace!" in out
    assert "free express shipping" in out
    assert "5% off your next order" in out
    assert '"product": "Espresso beans 1kg"' in out
    assert "compensated /do/2/chargePayment with refundPayment: completed" in out
    assert "compensated /do/1/reserveStock with releaseStock: completed" in out
    assert f"All {len(DEMO_RUNS)} demo runs ended as expected." in out
    assert "Traceback" not in out


async def test_every_run_ends_as_expected_with_the_expected_outputs() -> None:
    out = io.StringIO()
    outcomes = await run_demo(out=out, latency_scale=0)
    assert [o.run.title for o in outcomes] == [run.title for run in DEMO_RUNS]
    assert all(o.as_expected for o in outcomes)
    hello_gold, hello_other, bff, saga, _ = outcomes
    assert hello_gold.result.output == {"greeting": "Hello, Ada Lovelace!", "perk": "free express shipping"}
    assert hello_other.result.output == {"greeting": "Hello, Alan Turing!", "perk": "5% off your next order"}
    assert bff.result.output == {
        "customer": {"name": "Ada Lovelace", "tier": "gold"},
        "orders": [
            {"id": "o-1001", "total": 129.5, "status": "delivered"},
            {"id": "o-1002", "total": 18.0, "status": "shipped"},
        ],
        "featured": {"product": "Espresso beans 1kg", "price": 24.0, "inStock": True},
    }
    assert saga.result.output["status"] == "confirmed"
    assert saga.result.output["amount"] == 149
    assert [entry["action"] for entry in saga.ledger] == ["reserve", "charge", "ship"]


async def test_the_failed_saga_is_compensated_in_reverse_order_as_the_upstream_saw_it() -> None:
    outcomes = await run_demo(out=io.StringIO(), runs=[DEMO_RUNS[-1]], latency_scale=0)
    (failed,) = outcomes
    assert failed.result.status == "faulted"
    assert failed.result.error is not None
    assert failed.result.error.status == 503
    assert failed.result.error.instance == "/do/3/shipOrder"
    assert [(c.handler, c.status) for c in failed.result.compensations] == [
        ("refundPayment", "completed"),
        ("releaseStock", "completed"),
    ]
    actions = [(entry["service"], entry["action"]) for entry in failed.ledger]
    assert actions == [
        ("inventory", "reserve"),
        ("payments", "charge"),
        ("payments", "refund"),
        ("inventory", "release"),
    ]


def test_a_missing_examples_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--examples", str(tmp_path / "nowhere")]) == 2
    assert "no examples folder" in capsys.readouterr().err


def test_a_broken_example_is_reported_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in EXAMPLES_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "hello.yaml").write_text("apiVersion: baton.dev/v1alpha1\nkind: Workflow\nspec: {}\n")
    assert main(["demo", "--examples", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "hello.yaml" in err
    assert "not a valid Workflow manifest" in err
    assert "Traceback" not in err


def test_an_example_with_an_invalid_workflow_names_the_file_and_path(tmp_path: Path) -> None:
    text = (EXAMPLES_DIR / "hello.yaml").read_text().replace("then: goldPerk", "then: nowhere")
    (tmp_path / "hello.yaml").write_text(text)
    with pytest.raises(ExampleError, match=r"hello\.yaml.*nowhere"):
        load_example(tmp_path / "hello.yaml")


def test_an_example_whose_workflow_breaks_the_schema_is_an_example_error(tmp_path: Path) -> None:
    text = (EXAMPLES_DIR / "hello.yaml").read_text().replace("call: http", "call: 42", 1)
    (tmp_path / "hello.yaml").write_text(text)
    with pytest.raises(ExampleError, match=r"hello\.yaml#spec\.workflow: .*getUser"):
        load_example(tmp_path / "hello.yaml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xe9 not text", "hello.yaml: is not UTF-8 text"),
        (
            b"a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
            + b"".join(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n".encode() for n in range(1, 10)),
            "the document has more than 1,000,000 values once YAML aliases are expanded",
        ),
        (b"[" * 1000 + b"]" * 1000, "hello.yaml: the document is nested deeper than 128 levels"),
    ],
    ids=["binary", "yaml-bomb", "deep"],
)
def test_an_unreadable_example_is_named_with_its_problem_in_bounded_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    (tmp_path / "hello.yaml").write_bytes(content)
    assert main(["demo", "--examples", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_manifest_problems_read_as_baton_validate_tells_them_one_line_in_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hello.yaml"
    path.write_text(
        "apiVersion: baton.dev/v1alpha1\nkind: Workflow\n"
        "metadata: {name: Not_A_Label}\nspec: {workflow: {}}\n"
    )
    assert main(["validate", str(path)]) == 1
    told = [line.removeprefix(f"{path}: ") for line in capsys.readouterr().out.splitlines()]
    assert any(line.startswith("metadata.name") for line in told)
    assert any("'endpoint'" in line for line in told)
    with pytest.raises(ExampleError) as error:
        load_example(path)
    message = str(error.value)
    for line in told:
        if not line.startswith("spec.workflow"):  # the document is checked after the manifest
            assert line in message
    assert "\n" not in message
    assert "errors.pydantic.dev" not in message
