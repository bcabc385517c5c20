"""``$compensation`` (Baton's saga extension) is in scope exactly where the engine binds it."""

from __future__ import annotations

from typing import Any

from baton.cli.main import main
from baton.demo import EXAMPLES_DIR
from baton.dsl import validate
from baton.engine import compile_workflow

HEADER = {"dsl": "1.0.3", "namespace": "default", "name": "saga", "version": "1.0.0"}

REFUND: dict[str, Any] = {
    "call": "http",
    "with": {
        "method": "post",
        "endpoint": {"uri": '${ "https://payments.example/" + $compensation.output.paymentId }'},
        "body": {"reason": "${ $compensation.error.title }"},
    },
}


def _saga(*tasks: dict[str, Any], functions: dict[str, Any] | None = None) -> dict[str, Any]:
    used = {"refund": REFUND} if functions is None else functions
    return {"document": HEADER, "use": {"functions": used}, "do": list(tasks)}


CHARGE = {
    "charge": {
        "call": "http",
        "with": {"method": "post", "endpoint": "https://payments.example/charge"},
        "metadata": {"baton.compensateBy": "refund"},
    }
}


def errors(raw: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in validate(raw) if p.severity == "error"]


def test_a_function_named_as_a_compensation_may_read_compensation() -> None:
    raw = _saga(CHARGE)
    assert errors(raw) == []
    compile_workflow(raw)  # and the engine agrees


def test_the_same_function_without_a_task_compensated_by_it_reads_an_unknown_variable() -> None:
    plain = {"charge": {"call": "http", "with": {"method": "post", "endpoint": "https://payments.example/c"}}}
    found = errors(_saga(plain))
    assert found
    assert {path for path, _ in found} == {
        "use.functions.refund.with.endpoint.uri",
        "use.functions.refund.with.body.reason",
    }
    assert all("compensation" in message for _, message in found)


def test_compensation_stays_unknown_in_ordinary_tasks_of_a_saga() -> None:
    leak = {"peek": {"set": {"seen": "${ $compensation }"}}}
    assert [path for path, _ in errors(_saga(CHARGE, leak))] == ["do[1].peek.set.seen"]


def test_a_compensation_function_that_a_task_also_calls_is_reported_at_that_call() -> None:
    direct = {"refundNow": {"call": "refund"}}
    found = errors(_saga(CHARGE, direct))
    assert [path for path, _ in found] == ["do[1].refundNow.call"]
    assert "only bound when it runs as a compensation" in found[0][1]


def test_a_compensation_function_that_does_not_read_compensation_may_also_be_called() -> None:
    release = {"call": "http", "with": {"method": "delete", "endpoint": "https://stock.example/r"}}
    raw = _saga(CHARGE, {"releaseNow": {"call": "refund"}}, functions={"refund": release})
    assert errors(raw) == []


def test_an_inline_compensation_is_checked_with_compensation_in_scope() -> None:
    hold = {
        "hold": {
            "set": {"held": True},
            "metadata": {
                "baton.compensateBy": {
                    "release": {"set": {"released": "${ $compensation.output.held }", "bad": "${ .a | }"}}
                }
            },
        }
    }
    found = errors(_saga(hold, functions={}))
    assert [path for path, _ in found] == ['do[0].hold.metadata["baton.compensateBy"].release.set.bad']


def test_a_compensation_naming_an_undeclared_function_is_an_error_at_validate_time() -> None:
    raw = _saga({"charge": {**CHARGE["charge"], "metadata": {"baton.compensateBy": "refnud"}}}, functions={})
    assert errors(raw) == [
        (
            'do[0].charge.metadata["baton.compensateBy"]',
            "compensating task 'refnud' is not declared in use.functions",
        )
    ]


def test_baton_validate_accepts_the_bundled_saga_example() -> None:
    assert main(["validate", str(EXAMPLES_DIR / "order-saga.yaml")]) == 0
