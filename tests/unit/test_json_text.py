"""JSON text is held to RFC 8259 where it enters and where it leaves a run."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from baton.json_text import MAX_NESTING, JsonTextError, encode_json, parse_json


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def refusal(text: bytes | str) -> JsonTextError:
    with pytest.raises(JsonTextError) as caught:
        parse_json(text)
    return caught.value


def test_ordinary_json_reads_as_python_json_reads_it() -> None:
    text = '{"a": [1, 2.5, -3e-7, true, null, "é😀", {"b": {}}], "big": 123456789012345678901234567890}'
    assert parse_json(text) == json.loads(text)
    assert parse_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("[Infinity]", "Infinity is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
        ("[1e999]", "1e999 is out of range for a number"),
        ("[-1.0e400]", "-1.0e400 is out of range for a number"),
        ("[" + "9" * 5000 + "]", "a number has over 4300 digits"),
    ],
)
def test_numbers_json_has_not_are_refused(text: str, reason: str) -> None:
    error = refusal(text)
    assert error.reason == reason
    assert not error.malformed


def test_an_unpaired_surrogate_is_refused_with_its_pointer() -> None:
    error = refusal('{"a": {"b/c~d": ["ok", "x\\ud800y"]}}')
    assert (
        error.reason == "the string holds an unpaired UTF-16 surrogate (\\ud800), which is not Unicode text"
    )
    assert error.pointer == "/a/b~1c~0d/1"
    assert str(error).endswith(" at /a/b~1c~0d/1")


def test_a_surrogate_in_a_key_is_refused_and_the_pointer_stays_writable() -> None:
    error = refusal('{"outer": {"k\\udc00": 1}}')
    assert error.pointer == "/outer"
    encode_json({"pointer": error.pointer, "message": str(error)})


def test_a_surrogate_pair_is_one_character_not_a_refusal() -> None:
    assert parse_json('["\\ud83d\\ude00", "\\\\ud800 is only text here"]') == [
        "😀",
        "\\ud800 is only text here",
    ]


def test_bytes_must_be_utf8_and_raw_surrogate_bytes_are_not() -> None:
    assert refusal(b'["\xed\xa0\x80"]').reason == "the text is not UTF-8 (byte 2 is 0xed)"
    assert refusal(b'["\xff"]').malformed
    assert refusal(b"\xff\xfe[\x00]\x00").malformed  # UTF-16 is not JSON exchanged between systems


def test_a_byte_order_mark_is_ignored_as_rfc_8259_allows() -> None:
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert parse_json("\ufeff[1]") == [1]


def test_syntax_errors_say_where_and_are_marked_malformed() -> None:
    error = refusal('{"a": 1,}')
    assert error.reason == "Expecting property name enclosed in double quotes at line 1, column 9"
    assert error.malformed
    assert refusal("").malformed


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_refused_with_where() -> None:
    assert parse_json(nested(MAX_NESTING)) is not None
    error = refusal('{"a": [' + nested(MAX_NESTING - 1) + "]}")
    assert error.reason == f"arrays and objects are nested deeper than {MAX_NESTING} levels"
    assert error.pointer == "/a/0/0/0/0/0/0/0/…"
    assert not error.malformed


@pytest.mark.parametrize("depth", [990, 5000, 200_000])
def test_nesting_past_the_interpreters_stack_is_a_refusal_not_a_recursion_error(depth: int) -> None:
    assert refusal(nested(depth)).reason == f"arrays and objects are nested deeper than {MAX_NESTING} levels"


def test_many_brackets_side_by_side_are_not_depth() -> None:
    # More brackets than the limit sends the text through the depth walk, which must pass it.
    text = "[" + ",".join(["[]"] * 1000) + "]"
    assert len(parse_json(text)) == 1000


def test_a_custom_depth_limit_applies() -> None:
    assert parse_json(nested(3), max_depth=3) == [[[1]]]
    with pytest.raises(JsonTextError, match="deeper than 2 levels"):
        parse_json(nested(3), max_depth=2)


def test_encoding_writes_compact_utf8() -> None:
    assert encode_json({"a": ["é", 1.5, None]}) == '{"a":["é",1.5,null]}'.encode()


@pytest.mark.parametrize(
    ("value", "reason", "pointer"),
    [
        ({"a": [1, math.nan]}, "nan is not a JSON number", "/a/1"),
        ({"x": {"y": math.inf}}, "inf is not a JSON number", "/x/y"),
        ([-math.inf], "-inf is not a JSON number", "/0"),
        ({"s": "a\ud800"}, "the string holds an unpaired UTF-16 surrogate, which is not Unicode text", "/s"),
        ({"b": b"raw"}, "a bytes value is not JSON", "/b"),
        ({"o": object()}, "a object value is not JSON", "/o"),
        ({1: {2: math.nan}}, "nan is not a JSON number", "/1/2"),  # int keys are written as strings
        ({"k": {(1, 2): 3}}, "the object key (1, 2) cannot be written as a JSON string", "/k"),
    ],
)
def test_a_value_json_cannot_carry_is_refused_with_its_pointer(value: Any, reason: str, pointer: str) -> None:
    with pytest.raises(JsonTextError) as caught:
        encode_json(value)
    assert (caught.value.reason, caught.value.pointer) == (reason, pointer)


def test_the_first_culprit_in_document_order_is_named() -> None:
    with pytest.raises(JsonTextError) as caught:
        encode_json({"first": [0, math.nan], "second": math.inf})
    assert caught.value.pointer == "/first/1"


@pytest.mark.parametrize("text", ["-Infinity and more", "1e999 text", "9" * 5000 + " text", "[NaN, oops"])
def test_text_that_breaks_the_syntax_after_a_refused_number_is_not_json_at_all(text: str) -> None:
    # Numbers are refused as they are read, before the parser reaches the broken syntax; an
    # answer mislabelled as JSON must still be taken as text, not as unwritable JSON.
    assert refusal(text).malformed


def test_a_mislabelled_answer_starting_like_a_number_reaches_the_flow_as_text() -> None:
    from baton.engine.tasks.call_http import decode_body

    assert decode_body(b"-Infinity and more", {"Content-Type": "application/json"}) == "-Infinity and more"
    with pytest.raises(JsonTextError, match="-Infinity is not a JSON number"):
        decode_body(b"[-Infinity]", {"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("text", "lone"),
    [
        (r'["\ude00\ud83d"]', "\\ude00"),  # a low surrogate first is no pair
        (r'["\ud83d", "\ude00"]', "\\ud83d"),  # halves in two strings are two lone halves
        (r'["x\uDBFFy"]', "\\udbff"),
    ],
)
def test_only_a_real_pair_of_escaped_surrogates_is_one_character(text: str, lone: str) -> None:
    assert f"unpaired UTF-16 surrogate ({lone})" in refusal(text).reason


def test_an_ascii_only_writers_escaped_emoji_read_as_characters() -> None:
    # Python's json.dumps and many others escape every non-ASCII character, emoji as pairs.
    doc = {"items": [{"name": f"item {i} 😀", "tags": ["ü"]} for i in range(200)]}
    assert parse_json(json.dumps(doc)) == doc
