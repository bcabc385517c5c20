"""Our models accept what the official schema accepts and reject what it rejects."""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest

from baton.dsl import DocumentError, Problem, read_document, schema_problems, validate

from .conftest import DOCUMENTS, ctk_workflows, specification_examples

CTK = ctk_workflows()
EXAMPLES = specification_examples()


def _readable_examples() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, text in EXAMPLES:
        try:
            found.append((name, read_document(text)))
        except DocumentError:
            continue  # see test_the_specifications_examples_are_judged_alike...
    return found


def _corpus() -> list[tuple[str, dict[str, Any]]]:
    documents = [(name, read_document(text)) for name, text in CTK] + _readable_examples()
    for path in sorted(DOCUMENTS.glob("*")):
        raw = read_document(path)
        documents.append((path.name, raw["spec"]["workflow"] if raw.get("kind") == "Workflow" else raw))
    return documents


CORPUS = _corpus()
_TRIVIAL_DO = [{"noop": {"set": {"done": True}}}]


def _slices() -> list[tuple[str, dict[str, Any]]]:
    """Small documents to mutate: the official validator takes ~0.5 s on the big corpus file.

    Each top-level task alone in its own document, and the document's other sections around
    a trivial task; the schema checks no cross-references, so each slice stays valid.
    """
    slices = []
    for name, raw in CORPUS:
        tasks = raw.get("do", [])
        if len(tasks) <= 3:
            slices.append((name, raw))
            continue
        for item in tasks:
            (task_name,) = item
            slices.append((f"{name}:{task_name}", {"document": raw["document"], "do": [item]}))
        for section in ("input", "use", "timeout", "output", "schedule", "evaluate"):
            if section in raw:
                doc = {"document": raw["document"], section: raw[section], "do": _TRIVIAL_DO}
                slices.append((f"{name}:{section}", doc))
    return slices


SLICES = _slices()
#: Mutants checked per slice in the fast tier; the ``slow`` test checks them all.
_SAMPLE = 25


@pytest.mark.skipif(not CTK, reason="the conformance kit is not in ../shared")
def test_the_conformance_kit_has_workflows_to_check() -> None:
    assert len(CTK) >= 20


@pytest.mark.parametrize(("name", "raw"), CORPUS, ids=[name for name, _ in CORPUS])
def test_every_corpus_document_is_valid_for_the_official_schema_and_our_models(
    name: str, raw: dict[str, Any], official: Any
) -> None:
    assert [error.message for error in official.iter_errors(raw)] == []
    assert schema_problems(raw) == []


@pytest.mark.skipif(not EXAMPLES, reason="the specification is not in ../shared")
def test_the_specifications_examples_are_judged_alike_by_the_official_schema_and_our_models(
    official: Any,
) -> None:
    judged, disagreements, unreadable = 0, [], []
    for name, text in EXAMPLES:
        try:
            raw = read_document(text)
        except DocumentError as exc:
            unreadable.append((name, exc.problems[0].message))
            continue
        judged += 1
        schema_valid = next(official.iter_errors(raw), None) is None
        if schema_valid != (schema_problems(raw) == []):
            disagreements.append(name)
    assert judged >= 40
    assert disagreements == []
    # One example in dsl.md writes ``\(`` inside a double-quoted YAML string: invalid YAML for
    # any reader (PyYAML agrees), so it is the page's mistake, not ours.
    assert [message.split(":")[0] for _, message in unreadable] == ["invalid YAML at line 17, column 50"]


_WRONG_VALUES: tuple[Any, ...] = (12345, "text", [], {}, None, True, [{"x": 1}])


def _positions(value: Any, trail: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield trail, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _positions(item, (*trail, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _positions(item, (*trail, i))


def _mutants(raw: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Drop each key, add an unknown key to each mapping, put wrong types in each position."""
    for trail, value in list(_positions(raw)):
        if isinstance(value, dict):
            for key in value:
                mutant = copy.deepcopy(raw)
                _at(mutant, trail).pop(key)
                yield f"drop {(*trail, key)}", mutant
            mutant = copy.deepcopy(raw)
            _at(mutant, trail)["bogusKey"] = 1
            yield f"add bogusKey at {trail}", mutant
        if trail:
            for wrong in _WRONG_VALUES:
                if wrong == value and type(wrong) is type(value):
                    continue
                mutant = copy.deepcopy(raw)
                _at(mutant, trail[:-1])[trail[-1]] = copy.deepcopy(wrong)
                yield f"set {trail} to {wrong!r}", mutant


def _at(value: Any, trail: tuple[Any, ...]) -> Any:
    for step in trail:
        value = value[step]
    return value


#: Where our models are deliberately stricter than the schema (each says why in the models):
#: unknown top-level keys (a misspelt ``do`` would drop the author's tasks), ``evaluate``
#: (dsl-reference.md defines it, the 1.0.3 schema lets any top-level key through), and extra
#: keys beside an authentication scheme in ``use.authentications``.
def _deliberately_stricter(description: str) -> bool:
    return (
        description == "add bogusKey at ()"
        or "('evaluate'" in description
        or ("'authentications'" in description and description.startswith("add bogusKey"))
    )


_JARGON = re.compile(
    r"Input should|\[type=|function-|union_tag|model_attributes|Value error|<(?:call|inline|definition|text)"
)
_STEP = re.compile(r'\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.\[]+)')


def _readable(problem: Problem, raw: Any) -> bool:
    """No pydantic jargon, and the path leads to a value of the document (or a missing key's parent)."""
    if _JARGON.search(problem.message):
        return False
    node = raw
    for match in _STEP.finditer(problem.path):
        position, quoted, plain = match.groups()
        step: Any = int(position) if position is not None else json.loads(quoted) if quoted else plain
        found = isinstance(node, dict) and step in node
        found = found or (isinstance(node, list) and isinstance(step, int) and step < len(node))
        if not found:
            return False
        node = node[step]
    return True


def _compare(raw: dict[str, Any], official: Any, *, sample: int | None) -> None:
    mutants = list(_mutants(raw))
    if sample is not None and len(mutants) > sample:
        mutants = random.Random(len(mutants)).sample(mutants, sample)
    missed, overreached, checked = [], [], 0
    for description, mutant in mutants:
        checked += 1
        schema_rejects = next(official.iter_errors(mutant), None) is not None
        problems = schema_problems(mutant)
        we_reject = bool(problems)
        unreadable = [f"{description}: {p}" for p in problems if not _readable(p, mutant)]
        assert unreadable == []
        # The checks beyond the schema walk malformed data too, and must never trip on it.
        assert all(isinstance(p, Problem) for p in validate(mutant))
        if schema_rejects and not we_reject:
            missed.append(description)
        elif we_reject and not schema_rejects and not _deliberately_stricter(description):
            overreached.append(description)
    assert checked > 10
    assert missed == [], f"{len(missed)} of {checked} mutants accepted although the schema rejects them"
    assert overreached == [], (
        f"{len(overreached)} of {checked} mutants rejected although the schema accepts them"
    )


@pytest.mark.parametrize(("name", "raw"), SLICES, ids=[name for name, _ in SLICES])
def test_sampled_mutants_are_rejected_by_our_models_exactly_when_the_official_schema_rejects_them(
    name: str, raw: dict[str, Any], official: Any
) -> None:
    _compare(raw, official, sample=_SAMPLE)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "raw"), SLICES, ids=[name for name, _ in SLICES])
def test_every_mutant_is_rejected_by_our_models_exactly_when_the_official_schema_rejects_it(
    name: str, raw: dict[str, Any], official: Any
) -> None:
    _compare(raw, official, sample=None)


_HEADER = {"dsl": "1.0.3", "namespace": "default", "name": "edge", "version": "1.0.0"}


def _with_task(task: dict[str, Any]) -> dict[str, Any]:
    return {"document": _HEADER, "do": [{"t": task}]}


def _http(endpoint: Any) -> dict[str, Any]:
    return _with_task({"call": "http", "with": {"method": "get", "endpoint": endpoint}})


def _raise(**error: Any) -> dict[str, Any]:
    return _with_task({"raise": {"error": {"type": "https://example.com/e", "status": 400, **error}}})


def _emit(time: str) -> dict[str, Any]:
    return _with_task(
        {"emit": {"event": {"with": {"source": "https://s.example", "type": "t", "time": time}}}}
    )


def _grpc(port: Any) -> dict[str, Any]:
    service = {"name": "s", "host": "h.example", "port": port}
    return _with_task(
        {
            "call": "grpc",
            "with": {"proto": {"endpoint": "https://p.example"}, "service": service, "method": "m"},
        }
    )


_EDGES: list[tuple[str, dict[str, Any]]] = [
    *[
        (f"name {n!r}", {"document": {**_HEADER, "name": n}, "do": []})
        for n in ("a", "a-b", "-a", "a_b", "A1", "a" * 63, "a" * 64, "a-")
    ],
    *[
        (f"version {v!r}", {"document": {**_HEADER, "version": v}, "do": []})
        for v in ("1.0.0-alpha.1+b2", "01.0.0", "1.0", "1.0.0-", "v1.0.0")
    ],
    *[
        (f"endpoint {e!r}", _http(e))
        for e in ("http://x", "x+y://z", "/relative", "${ .u }", "  ${ .u }  ", "${}", "mailto:a@b")
    ],
    *[(f"endpoint uri {e!r}", _http({"uri": e})) for e in ("https://x/{id}", "x", "${ .u }")],
    *[
        (f"wait {d!r}", _with_task({"wait": d}))
        for d in ("PT", "P1D", "PT1.5S", "P1Y2M3W4DT5H6M7S", "pt1s", "P1DT", "${ .d }", "P", "PT0S")
    ],
    *[(f"wait {d!r}", _with_task({"wait": d})) for d in ({"seconds": 1.5}, {"weeks": 1}, {}, {"days": -1})],
    *[(f"instance {i!r}", _raise(instance=i)) for i in ("/do/0", "", "abc", "/a~2", "/a~0b", "${ .x }")],
    *[
        (f"error type {t!r}", _raise(type=t))
        for t in ("about:blank", "https://e.example/x", "${ .t }", "relative/type")
    ],
    *[
        (f"event time {t!r}", _emit(t))
        for t in (
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:00:00.5+02:00",
            "2025-01-01",
            "${ now }",
            "yesterday",
        )
    ],
    *[(f"grpc port {p!r}", _grpc(p)) for p in (-1, 0, 65535, 65536, "80")],
    *[(f"set {s!r}", _with_task({"set": s})) for s in ({}, "", "x", {"a": None}, [])],
    ("switch []", _with_task({"switch": []})),
    ("raise by name", _with_task({"raise": {"error": "known"}})),
    ("status as float", _raise(status=400.5)),
    ("for without in", _with_task({"for": {"each": "x"}, "do": []})),
    ("try without catch", _with_task({"try": []})),
    ("fork without branches", _with_task({"fork": {"compete": True}})),
    ("two task kinds", _with_task({"set": {"a": 1}, "wait": "PT1S"})),
    ("a call of a function named like a protocol's prefix", _with_task({"call": "httpx"})),
]


@pytest.mark.parametrize(("name", "raw"), _EDGES, ids=[name for name, _ in _EDGES])
def test_edge_values_are_judged_alike_by_the_official_schema_and_our_models(
    name: str, raw: dict[str, Any], official: Any
) -> None:
    schema_accepts = next(official.iter_errors(raw), None) is None
    assert (schema_problems(raw) == []) == schema_accepts
