"""``baton demo`` end to end: the real upstream on loopback, the examples served by the real
runtime server, requests and run inspection over real HTTP."""

import asyncio
import io
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from baton.cli.main import main
from baton.demo import (
    DEMO_RUNS,
    EXAMPLES_DIR,
    ExampleError,
    Serving,
    example_files,
    load_example,
    run_demo,
)
from baton.demo.render import render_invitation


def test_baton_demo_once_serves_every_example_over_http_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--once", "--port", "0"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"Baton serving POST /customer-dashboard, POST /hello, POST /orders on http://127\.0\.0\.1:\d+", out
    )
    assert 'POST /hello  {"userId": 42}' in out
    assert "Hello, Ada Lovelace!" in out
    assert "free express shipping" in out
    assert "5% off your next order" in out
    assert '"product": "Espresso beans 1kg"' in out
    assert out.count("→ HTTP 200") == 4
    assert "→ HTTP 502" in out
    assert len(re.findall(r"timeline \(GET /runs/[0-9a-f]{32}\):", out)) == len(DEMO_RUNS)
    assert "compensated /do/2/chargePayment with refundPayment: completed" in out
    assert "compensated /do/1/reserveStock with releaseStock: completed" in out
    assert f"All {len(DEMO_RUNS)} demo runs ended as expected." in out
    assert "Ctrl-C" not in out  # --once does not invite anyone to a server it has stopped
    assert "Traceback" not in out


async def test_every_answer_comes_from_the_served_endpoint_and_its_run_from_get_runs() -> None:
    outcomes = await run_demo(out=io.StringIO(), port=0, latency_scale=0)
    assert [o.run.title for o in outcomes] == [run.title for run in DEMO_RUNS]
    assert all(o.as_expected for o in outcomes)
    assert [(o.method, o.path, o.status) for o in outcomes] == [
        ("POST", "/hello", 200),
        ("POST", "/hello", 200),
        ("POST", "/customer-dashboard", 200),
        ("POST", "/orders", 200),
        ("POST", "/orders", 502),
    ]
    hello_gold, hello_other, bff, saga, _ = outcomes
    assert hello_gold.body == {"greeting": "Hello, Ada Lovelace!", "perk": "free express shipping"}
    assert hello_other.body == {"greeting": "Hello, Alan Turing!", "perk": "5% off your next order"}
    assert bff.body == {
        "customer": {"name": "Ada Lovelace", "tier": "gold"},
        "orders": [
            {"id": "o-1001", "total": 129.5, "status": "delivered"},
            {"id": "o-1002", "total": 18.0, "status": "shipped"},
        ],
        "featured": {"product": "Espresso beans 1kg", "price": 24.0, "inStock": True},
    }
    assert saga.body["status"] == "confirmed"
    assert saga.body["amount"] == 149
    assert [entry["action"] for entry in saga.ledger] == ["reserve", "charge", "ship"]
    for outcome in outcomes:
        # The run shown is the one the response named, as GET /runs/{id} serves it.
        assert outcome.detail is not None
        assert outcome.detail["id"] == outcome.run_id
        assert outcome.detail["location"] == f"/runs/{outcome.run_id}"
    assert hello_gold.detail is not None
    assert hello_gold.detail["output"] == hello_gold.body
    assert [t["name"] for t in hello_gold.detail["timeline"]] == ["getUser", "greet", "pickPerk", "goldPerk"]
    assert hello_gold.detail["timeline"][2]["decision"] == "case: gold"


async def test_the_failed_saga_answers_502_and_its_run_shows_the_compensations_in_reverse_order() -> None:
    out = io.StringIO()
    (failed,) = await run_demo(out=out, runs=[DEMO_RUNS[-1]], port=0, latency_scale=0)
    assert failed.status == 502
    assert failed.body["instance"] == "/do/3/shipOrder"
    assert failed.detail is not None
    assert failed.detail["outcome"] == "faulted"
    assert [(t["name"], t["status"], t["parent"]) for t in failed.detail["timeline"]][-3:] == [
        ("shipOrder", "faulted", None),
        ("refundPayment", "completed", "/do/2/chargePayment"),
        ("releaseStock", "completed", "/do/1/reserveStock"),
    ]
    actions = [(entry["service"], entry["action"]) for entry in failed.ledger]
    assert actions == [
        ("inventory", "reserve"),
        ("payments", "charge"),
        ("payments", "refund"),
        ("inventory", "release"),
    ]
    printed = out.getvalue()
    assert "↩ refundPayment" in printed
    assert "(compensates /do/2/chargePayment)" in printed


async def test_while_it_keeps_serving_the_examples_answer_anyone_and_runs_are_browsable() -> None:
    seen: dict[str, object] = {}

    async def visit(serving: Serving) -> None:
        seen["invitation"] = render_invitation(serving)
        async with aiohttp.ClientSession() as client:
            async with client.post(serving.base_url + "/hello", json={"userId": 7}) as reply:
                seen["hello"] = (reply.status, await reply.json())
                run_id = reply.headers["X-Baton-Run-Id"]
            async with client.get(serving.base_url + "/runs?workflow=hello") as listing:
                seen["runs"] = len((await listing.json())["runs"])
            async with client.get(
                f"{serving.base_url}/runs/{run_id}", headers={"Accept": "text/html"}
            ) as page:
                seen["page"] = (page.content_type, await page.text())
        seen["base"] = serving.base_url

    outcomes = await run_demo(out=io.StringIO(), port=0, latency_scale=0, keep_serving=visit)
    assert all(o.as_expected for o in outcomes)
    assert seen["hello"] == (200, {"greeting": "Hello, Alan Turing!", "perk": "5% off your next order"})
    assert seen["runs"] == 3  # the two scripted hello runs and ours
    content_type, page = seen["page"]  # type: ignore[misc]
    assert content_type == "text/html"
    assert "getUser" in page
    base = seen["base"]
    invitation = str(seen["invitation"])
    assert (
        f"curl -sS -X POST -H 'Content-Type: application/json' -d '{{\"userId\": 42}}' {base}/hello"
        in invitation
    )
    assert f"{base}/runs (JSON)" in invitation
    assert "HTML timeline" in invitation
    async with aiohttp.ClientSession() as client:  # stopped once keep_serving returned
        with pytest.raises(aiohttp.ClientConnectionError):
            await client.get(f"{base}/healthz")


async def test_a_taken_port_falls_back_to_a_free_one_and_says_so() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = io.StringIO()
        outcomes = await run_demo(out=out, runs=DEMO_RUNS[:1], port=port, latency_scale=0)
    assert outcomes[0].as_expected
    match = re.search(rf"Port {port} is taken on 127\.0\.0\.1; serving on port (\d+) instead", out.getvalue())
    assert match is not None
    assert int(match.group(1)) != port
    assert f"on http://127.0.0.1:{match.group(1)}" in out.getvalue()


def test_baton_demo_keeps_serving_until_ctrl_c_and_then_exits_0() -> None:
    script = "import sys; from baton.cli.main import main; sys.exit(main(['demo', '--port', '0']))"
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # bounded: the demo prints the invitation after 5 runs
            lines.append(line)
            if "press Ctrl-C to stop" in line:
                break
        base = re.search(r"on (http://127\.0\.0\.1:\d+) .* press Ctrl-C", "".join(lines[-1:]))
        assert base is not None, "".join(lines)
        url = base.group(1) + "/hello"

        async def call() -> tuple[int, object]:
            async with aiohttp.ClientSession() as client, client.post(url, json={"userId": 42}) as reply:
                return reply.status, await reply.json()

        assert asyncio.run(call()) == (
            200,
            {"greeting": "Hello, Ada Lovelace!", "perk": "free express shipping"},
        )
        process.send_signal(signal.SIGINT)  # as Ctrl-C sends it
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert f"All {len(DEMO_RUNS)} demo runs ended as expected." in out
    assert "Traceback" not in err


def test_the_demo_serves_the_manifests_of_the_examples_folder_not_of_its_subfolders() -> None:
    assert [path.name for path in example_files(EXAMPLES_DIR)] == [
        "bff-aggregation.yaml",
        "hello.yaml",
        "order-saga.yaml",
    ]


def test_a_refused_manifest_beside_the_examples_is_named_as_baton_serve_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in EXAMPLES_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    broken = (EXAMPLES_DIR / "hello.yaml").read_text().replace("name: hello", "name: other")
    (tmp_path / "other.yaml").write_text(broken.replace("then: goldPerk", "then: nowhere"))
    assert main(["demo", "--once", "--port", "0", "--examples", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "other.yaml" in err
    assert "nowhere" in err
    assert "Traceback" not in err


def test_a_missing_examples_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--once", "--examples", str(tmp_path / "nowhere")]) == 2
    assert "no examples folder" in capsys.readouterr().err


def test_a_broken_example_is_reported_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in EXAMPLES_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "hello.yaml").write_text("apiVersion: baton.dev/v1alpha1\nkind: Workflow\nspec: {}\n")
    assert main(["demo", "--once", "--port", "0", "--examples", str(tmp_path)]) == 1
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
    assert main(["demo", "--once", "--port", "0", "--examples", str(tmp_path)]) == 1
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
