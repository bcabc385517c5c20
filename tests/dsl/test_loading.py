"""load_document / read_document: any input becomes a document or clear problems, within bounds."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from baton.dsl import DocumentError, LoadLimits, Problem, load_document, read_document, validate

MINIMAL = (
    "document: {dsl: '1.0.3', namespace: default, name: tiny, version: '1.0.0'}\ndo:\n  - a: {set: {x: 1}}\n"
)


def problems_of(source: str | bytes | Path, **kwargs: object) -> list[tuple[str, str]]:
    with pytest.raises(DocumentError) as caught:
        read_document(source, **kwargs)  # type: ignore[arg-type]
    return [(p.path, p.message) for p in caught.value.problems]


def test_yaml_text_bytes_and_files_load_into_the_same_document(tmp_path: Path) -> None:
    file = tmp_path / "tiny.yaml"
    file.write_text(MINIMAL)
    documents = [load_document(MINIMAL), load_document(MINIMAL.encode()), load_document(file)]
    assert {d.document.name for d in documents} == {"tiny"}
    assert documents[0].raw == documents[1].raw == documents[2].raw


def test_json_loads_through_the_fast_path_with_duplicate_keys_refused() -> None:
    raw = {"document": {"dsl": "1.0.3", "namespace": "d", "name": "j", "version": "1.0.0"}, "do": []}
    assert load_document(json.dumps(raw)).raw == raw
    assert problems_of('{"a": 1, "a": 2}') == [("", "duplicate key 'a'")]


def test_a_schema_error_on_load_raises_with_every_problem() -> None:
    with pytest.raises(DocumentError) as caught:
        load_document(MINIMAL.replace("name: tiny", "name: -bad-").replace("set: {x: 1}", "wait: never"))
    assert [p.path for p in caught.value.problems] == ["document.name", "do[0].a.wait"]
    assert all(p.file == "<input>" for p in caught.value.problems)


def test_yaml_is_read_with_yaml_1_2_core_rules() -> None:
    data = read_document("on: yes\nno: off\nday: 2025-01-31\nhex: 0x1F\nrate: 1e3\nnull_: ~\nflag: true\n")
    assert data == {
        "on": "yes",
        "no": "off",
        "day": "2025-01-31",
        "hex": 31,
        "rate": 1000.0,
        "null_": None,
        "flag": True,
    }


def test_keys_stay_text_as_written() -> None:
    assert read_document("200: ok\ntrue: x\n1.5: y\n") == {"200": "ok", "true": "x", "1.5": "y"}


def test_yaml_merge_keys_and_aliases_give_independent_copies() -> None:
    data = read_document("base: &b {a: 1, b: 2}\nmerged: {<<: *b, b: 3}\ncopy: *b\n")
    assert data == {"base": {"a": 1, "b": 2}, "merged": {"a": 1, "b": 3}, "copy": {"a": 1, "b": 2}}
    assert data["copy"] is not data["base"]


def test_duplicate_yaml_keys_are_refused_with_their_path() -> None:
    assert problems_of("do:\n  - a:\n      set: {x: 1}\n      set: {x: 2}\n") == [
        ("do[0].a.set", "duplicate key 'set'")
    ]


def test_non_json_yaml_tags_are_refused() -> None:
    assert problems_of("a: !!python/object:os.system x\n") == [
        (
            "a",
            "unsupported YAML tag tag:yaml.org,2002:python/object:os.system"
            " (only JSON-like data is accepted)",
        )
    ]
    assert read_document("a: !!str 123\nb: !!float 1\n") == {"a": "123", "b": 1.0}


def test_invalid_yaml_says_where() -> None:
    assert problems_of("a: [1, 2\n") == [
        ("a[2]", "invalid YAML at line 2, column 1: did not find expected ',' or ']'")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty: a workflow document is a mapping with document and do"),
        ("# only a comment\n", "is empty: a workflow document is a mapping with document and do"),
        ("- a\n- b\n", "must be a mapping with document and do, not a list"),
        ("just text\n", "must be a mapping with document and do, not a single value (str)"),
        ("42", "must be a mapping with document and do, not a single value (int)"),
        ("a: 1\n---\nb: 2\n", "the file holds more than one YAML document (---); give one per file"),
    ],
)
def test_sources_that_are_not_one_mapping_are_refused(text: str, message: str) -> None:
    assert problems_of(text) == [("", message)]


def test_bytes_that_are_not_utf8_are_refused_with_the_offset() -> None:
    assert problems_of(b"a: 1\n\xff\xfe") == [("", "is not UTF-8 text (byte 0xff at offset 5)")]


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert read_document(b"\xef\xbb\xbfa: 1\n") == {"a": 1}


def test_control_characters_are_refused() -> None:
    ((path, message),) = problems_of("a: 1\x00\n")
    assert path == ""
    assert message.startswith("invalid YAML")


@pytest.mark.timeout(60)
def test_random_bytes_never_escape_as_anything_but_problems() -> None:
    generator = random.Random(20261124)
    for size in (1, 7, 64, 512, 4096, 65536):
        for _ in range(20):
            junk = bytes(generator.getrandbits(8) for _ in range(size))
            problems = validate(junk)
            assert problems
            assert all(isinstance(p, Problem) and p.message for p in problems)


@pytest.mark.timeout(60)
def test_random_printable_junk_never_escapes_as_anything_but_problems() -> None:
    generator = random.Random(7)
    alphabet = "abc:-[]{}&*!|>'\"#%@`,?\n  \t0123456789.$"
    for _ in range(500):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(1, 200)))
        problems = validate(text)
        assert all(isinstance(p, Problem) for p in problems)


@pytest.mark.timeout(60)
def test_a_billion_laughs_bomb_is_refused_before_it_expands() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    ((_, message),) = problems_of("\n".join(lines) + "\n")
    assert message == "the document has more than 1,000,000 values once YAML aliases are expanded"


def test_a_recursive_alias_is_refused() -> None:
    assert problems_of("a: &loop\n  - *loop\n") == [
        ("a[0]", "YAML alias *loop refers to a value that contains it (a cycle)")
    ]


def test_an_unknown_alias_is_refused() -> None:
    ((path, message),) = problems_of("a: *nowhere\n")
    assert (path, message.startswith("invalid YAML") or message.startswith("unknown YAML alias")) == (
        "a",
        True,
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 10_000 + "]" * 10_000,
        '{"a": ' + "[" * 10_000 + "]" * 10_000 + "}",
        "a: " + "{b: " * 10_000 + "1" + "}" * 10_000,
        "".join("  " * depth + "- \n" for depth in range(2_000)),
        "[" * 1_000_000,
    ],
    ids=["yaml-flow-lists", "json-lists", "yaml-flow-maps", "yaml-block-lists", "million-open-brackets"],
)
def test_deep_nesting_is_refused_without_recursing(text: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1
    assert "nested deeper than 128 levels" in problems[0][1] or problems[0][1].startswith("invalid YAML")


def test_nesting_within_the_limit_is_read() -> None:
    assert read_document("a: " + "[" * 100 + "]" * 100)["a"] is not None


def test_the_bounds_are_configurable() -> None:
    limits = LoadLimits(max_bytes=100, max_depth=2, max_nodes=10)
    assert problems_of("a: [[1]]\n", limits=limits) == [
        ("a[0]", "the document is nested deeper than 2 levels")
    ]
    assert problems_of("a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", limits=limits)[0][1] == (
        "the document has more than 10 values once YAML aliases are expanded"
    )
    assert problems_of("a: " + "x" * 200, limits=limits) == [
        ("", "is larger than the 100 bytes a document may be")
    ]


@pytest.mark.timeout(120)
def test_a_file_over_10_mb_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    file = tmp_path / "huge.yaml"
    with file.open("wb") as stream:
        stream.write(b"a: '")
        stream.write(b"x" * (10 * 1024 * 1024))
        stream.write(b"'\n")
    assert problems_of(file, origin=str(file)) == [("", "is larger than the 10.0 MB a document may be")]


@pytest.mark.timeout(120)
def test_a_document_just_under_10_mb_loads_and_validates(tmp_path: Path) -> None:
    file = tmp_path / "big.yaml"
    blob = "x" * (10 * 1024 * 1024 - 500)
    file.write_text(MINIMAL.replace("set: {x: 1}", f"set: {{x: '{blob}'}}"))
    document = load_document(file)
    assert len(document.raw["do"][0]["a"]["set"]["x"]) == len(blob)
    assert validate(document) == []


@pytest.mark.timeout(120)
def test_ten_megabytes_of_tiny_values_is_refused_by_the_value_bound(tmp_path: Path) -> None:
    file = tmp_path / "many.yaml"
    file.write_text("a:\n" + "- 1\n" * (10 * 1024 * 1024 // 4 - 10))
    ((_, message),) = problems_of(file)
    assert message == "the document has more than 1,000,000 values once YAML aliases are expanded"


def test_overlong_numbers_are_refused() -> None:
    assert problems_of("a: " + "9" * 5000) == [("a", "a number longer than 1000 characters")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: {b: .nan}\n", ("a.b", ".nan is not a number JSON can carry")),
        ("a: [1, -.inf]\n", ("a[1]", "-.inf is not a number JSON can carry")),
        ("a: !!float .Inf\n", ("a", ".Inf is not a number JSON can carry")),
        ("a: 1e999\n", ("a", "1e999 is out of range for a number")),
        ('{"a": NaN}', ("", "NaN is not a JSON number")),
        ('{"a": [-Infinity]}', ("", "-Infinity is not a JSON number")),
        ('{"a": 1e999}', ("", "1e999 is out of range for a number")),
    ],
    ids=[
        "yaml-nan",
        "yaml-inf",
        "yaml-tagged-inf",
        "yaml-overflow",
        "json-nan",
        "json-infinity",
        "json-overflow",
    ],
)
def test_numbers_json_cannot_carry_are_refused_where_they_are_written(
    text: str, expected: tuple[str, str]
) -> None:
    # A `set: {x: .nan}` used to reach a run's output and be answered as `NaN`, which no JSON
    # parser reads; JSON's NaN was read as the YAML string "NaN".
    assert problems_of(text) == [expected]


def test_large_finite_numbers_are_still_read() -> None:
    assert read_document("a: [1.5e308, -2.5e-300, 12345678901234567890]\n") == {
        "a": [1.5e308, -2.5e-300, 12345678901234567890]
    }


def test_unreadable_paths_are_problems_not_exceptions(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "missing.yaml", origin="missing.yaml") == [
        ("", "cannot read: No such file or directory")
    ]
    assert problems_of(tmp_path, origin="folder") == [("", "is a folder, not a file")]


YAML_FEATURES = """\
plain: text with spaces
quoted: "tab\\there \\u00e9"
single: 'it''s'
literal: |
  line one
    indented
  line three
folded: >-
  folded
  lines
numbers: [1, -2, 3.5, .5, 0x10]
empty_list: []
empty_map: {}
nulls: [~, null, ]
anchored: &shared {a: 1, b: [x, y]}
aliased: *shared
nested:
  - name: first
    tags: [a, b]
  - {name: second, tags: []}
"multi word key": 1
? complex
: value
"""


def test_the_reader_builds_the_same_data_as_pyyaml_where_yaml_1_1_and_1_2_agree() -> None:
    import yaml

    assert read_document(YAML_FEATURES) == yaml.safe_load(YAML_FEATURES)


def test_the_reader_agrees_with_pyyaml_on_every_yaml_block_of_the_specification() -> None:
    import yaml

    from .conftest import FEATURES, specification_examples

    texts = [text for _, text in specification_examples()]
    for feature in sorted(FEATURES.glob("*.feature")) if FEATURES.is_dir() else []:
        texts += [
            match.group(1) for match in re.finditer(r'"""yaml\n(.*?)"""', feature.read_text(), re.DOTALL)
        ]
    if not texts:
        pytest.skip("the specification is not in ../shared")
    compared = 0
    for text in texts:
        try:
            expected = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if not isinstance(expected, dict):
            continue
        assert read_document(text) == expected
        compared += 1
    assert compared > 50


@pytest.mark.parametrize("text", ["? [a, b]\n: x\n", "? {a: 1}\n: x\n", "[a]: 1\n"])
def test_a_list_or_mapping_as_a_key_is_refused(text: str) -> None:
    assert problems_of(text) == [("", "a mapping key must be a plain value, not a list or mapping")]


def test_an_anchored_key_can_be_aliased_as_a_value() -> None:
    assert read_document("&k key: 1\nother: *k\n") == {"key": 1, "other": "key"}


@pytest.mark.timeout(120)
def test_typo_mutations_of_real_documents_never_escape_as_anything_but_problems() -> None:
    from .conftest import ctk_workflows

    texts = [text for _, text in ctk_workflows()] or [MINIMAL]
    generator = random.Random(20261124)
    alphabet = "{}[]:,-&*!|>'\"#%@ \n\t?$.0aZ<"
    for _ in range(2000):
        chars = list(generator.choice(texts))
        for _ in range(generator.randint(1, 5)):
            position = generator.randrange(len(chars))
            action = generator.random()
            if action < 0.4:
                chars.insert(position, generator.choice(alphabet))
            elif action < 0.8:
                del chars[position]
            else:
                chars[position] = generator.choice(alphabet)
        assert all(isinstance(p, Problem) for p in validate("".join(chars)))
