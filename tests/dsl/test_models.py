"""The typed models: every task kind and property, in order, round-tripping to the same data."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import baton.dsl as dsl
from baton.dsl import (
    CallFunction,
    CallHttp,
    Document,
    DurationError,
    DurationInline,
    EndpointConfiguration,
    ForTask,
    SetTask,
    SwitchTask,
    TaskItem,
    TryTask,
    duration_seconds,
    is_supported,
    iso_duration_seconds,
    read_document,
    task_kind,
)

from .conftest import DOCUMENTS, ctk_workflows

EVERY_KIND = read_document(DOCUMENTS / "every-task-kind.yaml")


def corpus() -> list[tuple[str, dict[str, Any]]]:
    documents = [(name, read_document(text)) for name, text in ctk_workflows()]
    return [
        *documents,
        ("every-task-kind", EVERY_KIND),
        ("minimal", read_document(DOCUMENTS / "minimal.json")),
    ]


@pytest.mark.parametrize(("name", "raw"), corpus(), ids=[name for name, _ in corpus()])
def test_documents_round_trip_to_the_same_plain_data(name: str, raw: dict[str, Any]) -> None:
    document = Document.from_raw(raw)
    assert document.model_dump(mode="json", exclude_unset=True) == raw
    assert Document.from_raw(document.model_dump(mode="json", exclude_unset=True)) == document


def test_task_lists_keep_the_authors_order_and_names() -> None:
    document = Document.from_raw(EVERY_KIND)
    names = [item.name for item in document.do]
    assert names[:4] == ["fetch", "callFunction", "grpc", "openapi"]
    assert names[-1] == "nested"
    assert len(names) == len(EVERY_KIND["do"])


def test_every_task_kind_is_typed_by_its_discriminating_key() -> None:
    document = Document.from_raw(EVERY_KIND)
    kinds = {item.name: type(item.task).__name__ for item in document.do}
    assert kinds == {
        "fetch": "CallHttp",
        "callFunction": "CallFunction",
        "grpc": "CallGrpc",
        "openapi": "CallOpenApi",
        "asyncapi": "CallAsyncApi",
        "asyncapiSubscribe": "CallAsyncApi",
        "a2a": "CallA2A",
        "mcp": "CallMcp",
        "branch": "SwitchTask",
        "fanOut": "ForkTask",
        "loop": "ForTask",
        "guarded": "TryTask",
        "inlineRetry": "TryTask",
        "notify": "EmitTask",
        "listenOne": "ListenTask",
        "listenAll": "ListenTask",
        "container": "RunTask",
        "script": "RunTask",
        "externalScript": "RunTask",
        "shell": "RunTask",
        "subflow": "RunTask",
        "setString": "SetTask",
        "pause": "WaitTask",
        "nested": "DoTask",
    }
    assert {task_kind(item.task) for item in document.do} == {
        "call", "switch", "fork", "for", "try", "emit", "listen", "run", "set", "wait", "do"
    }  # fmt: skip


def test_python_keywords_are_reached_through_trailing_underscores() -> None:
    document = Document.from_raw(EVERY_KIND)
    tasks = {item.name: item.task for item in document.do}
    fetch = tasks["fetch"]
    assert isinstance(fetch, CallHttp)
    assert fetch.if_ == ".enabled"
    assert isinstance(fetch.with_.endpoint, EndpointConfiguration)
    assert fetch.output is not None
    assert fetch.output.as_ == ".body"
    assert fetch.input is not None
    assert fetch.input.from_ == {"name": ".name"}
    loop = tasks["loop"]
    assert isinstance(loop, ForTask)
    assert (loop.for_.each, loop.for_.in_, loop.for_.at, loop.while_) == ("pet", ".pets", "i", "$i < 10")
    guarded = tasks["guarded"]
    assert isinstance(guarded, TryTask)
    assert guarded.catch.as_ == "failure"
    assert guarded.catch.retry == "standard"
    assert guarded.try_[0].name == "risky"


def test_defaults_are_the_specs_but_are_not_written_back() -> None:
    raw = {"document": EVERY_KIND["document"], "do": [{"l": {"for": {"in": ".xs"}, "do": []}}]}
    document = Document.from_raw(raw)
    loop = document.do[0].task
    assert isinstance(loop, ForTask)
    assert (loop.for_.each, loop.for_.at) == ("item", "index")
    assert document.model_dump(exclude_unset=True) == raw


def test_raw_keeps_the_data_the_document_came_from() -> None:
    document = Document.from_raw(EVERY_KIND)
    assert document.raw is EVERY_KIND
    built = Document.model_validate(EVERY_KIND)
    assert built.raw == EVERY_KIND


def test_models_are_immutable() -> None:
    document = Document.from_raw(EVERY_KIND)
    with pytest.raises(ValueError, match="frozen"):
        document.do = []  # type: ignore[misc]


def test_a_task_item_can_be_built_from_typed_parts() -> None:
    item = TaskItem.of("greet", SetTask.model_validate({"set": {"hello": "world"}}))
    assert (item.name, task_kind(item.task)) == ("greet", "set")


def test_switch_cases_keep_their_order_and_serialize_back() -> None:
    document = Document.from_raw(EVERY_KIND)
    branch = next(item.task for item in document.do if item.name == "branch")
    assert isinstance(branch, SwitchTask)
    assert [(case.name, case.case.then) for case in branch.switch] == [
        ("big", "fanOut"),
        ("default", "continue"),
    ]


def test_function_calls_are_any_name_but_a_protocols() -> None:
    assert CallFunction.model_validate({"call": "getPet"}).call == "getPet"
    with pytest.raises(ValueError, match="must name a function, not a protocol"):
        CallFunction.model_validate({"call": "http"})


def test_the_public_surface_is_listed() -> None:
    for name in ("Document", "TaskItem", "load_document", "validate", "Problem", "DocumentError", "CallHttp"):
        assert name in dsl.__all__
        assert hasattr(dsl, name)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT1S", 1), ("PT1.5S", 1.5), ("P1DT2H", 93_600), ("PT2M", 120), ("P1W", 604_800), ("P1Y", 31_536_000)],
)
def test_iso_durations_convert_to_seconds(text: str, seconds: float) -> None:
    assert iso_duration_seconds(text) == seconds


def test_inline_durations_convert_to_seconds() -> None:
    assert duration_seconds({"minutes": 1, "milliseconds": 500}) == 60.5
    assert duration_seconds(DurationInline.model_validate({"hours": 1})) == 3600
    assert DurationInline.model_validate({"days": 1, "seconds": 1}).total_seconds() == 86_401


@pytest.mark.parametrize("value", ["PT", "1S", "P1S", {"seconds": -1}, {"weeks": 1}, {}, 5])
def test_bad_durations_say_why(value: Any) -> None:
    with pytest.raises(DurationError):
        duration_seconds(value)


def test_support_is_decided_in_one_place() -> None:
    assert is_supported("call", "http")
    assert not is_supported("call", "grpc")
    assert is_supported("run", "workflow")
    assert not is_supported("run", "shell")
    assert is_supported("listen")
    assert not is_supported("mystery")
    assert is_supported("fork")


def test_every_model_is_complete_once_imported() -> None:
    # In a fresh interpreter: here, earlier tests have already validated (and so completed) them.
    program = (
        "import baton.dsl as d; from pydantic import BaseModel; "
        "print([n for n in d.__all__ if isinstance(getattr(d, n), type) "
        "and issubclass(getattr(d, n), BaseModel) and not getattr(d, n).__pydantic_complete__])"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
