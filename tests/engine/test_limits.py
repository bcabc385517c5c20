"""The payload guard's cheap bound: never below the exact size, so the guard decides as before."""

from __future__ import annotations

import random
from typing import Any

import pytest

from baton.engine import Limits
from baton.engine.errors import LimitExceeded
from baton.engine.limits import payload_bound, payload_size

_CHARACTERS = ["a", "\n", "\x00", '"', "\\", "é", "€", "\U0001f600", "\ud800", "/", " "]


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 2**63 - 1, -(2**63), 12345678901234567])
    if kind == 3:
        return rng.choice([0.1, -1e-308, 1.2345678901234567e300, float("inf"), float("nan"), -0.0])
    if kind in (4, 5):
        return "".join(rng.choice(_CHARACTERS) for _ in range(rng.randrange(12)))
    if kind in (6, 7):
        return {
            "".join(rng.choice(_CHARACTERS) for _ in range(rng.randrange(5))): _value(rng, depth + 1)
            for _ in range(rng.randrange(5))
        }
    return [_value(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_the_payload_bound_is_never_below_the_serialised_size() -> None:
    rng = random.Random(7)
    bounded = 0
    for _ in range(3000):
        value = _value(rng)
        bound = payload_bound(value)
        if bound is not None:
            bounded += 1
            assert bound >= payload_size(value), value
    assert bounded > 2000  # most small values are bounded, not serialised


def test_large_deep_or_unusual_payloads_are_left_to_the_exact_measure() -> None:
    assert payload_bound(list(range(100))) is None
    assert payload_bound({1: "int key"}) is None
    assert payload_bound(2**64) is None
    assert payload_bound(("a", "tuple")) is None
    assert payload_bound(b"bytes") is None


def test_a_small_payload_over_a_tiny_limit_is_still_refused_with_its_exact_size() -> None:
    value = {"blob": "x" * 40}
    exact = payload_size(value)
    with pytest.raises(LimitExceeded) as caught:
        Limits(max_payload_bytes=exact - 1).check_payload(value, what="run output", instance="/output")
    assert f"run output is {exact} bytes" in str(caught.value.detail)
    Limits(max_payload_bytes=exact).check_payload(value, what="run output", instance="/output")
