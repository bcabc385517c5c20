"""Fast unit tier: retry delays, redaction, error filters, problem details."""

from __future__ import annotations

import random

from baton.engine import REDACTED, CommunicationError, WorkflowError
from baton.engine.errors import error_kind
from baton.engine.retries import RetryPolicy
from baton.engine.tasks.try_ import ErrorFilter
from baton.engine.timeline import Redactor


def test_retry_delays_follow_their_backoff_and_limits() -> None:
    rng = random.Random(1)
    exponential = RetryPolicy(delay=1.0, backoff="exponential", max_retries=3)
    assert [exponential.delay_before(n, rng) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert exponential.allows(3, elapsed=0, delay=4.0)
    assert not exponential.allows(4, elapsed=0, delay=8.0)
    bounded = RetryPolicy(delay=10.0, max_duration=15.0)
    assert bounded.allows(1, elapsed=0.0, delay=10.0)
    assert not bounded.allows(2, elapsed=10.0, delay=10.0)


def test_redaction_masks_secret_values_inside_any_string_and_leaves_the_rest() -> None:
    redactor = Redactor([{"token": "abcd-1234"}, "pw"])
    value = {"h": "Bearer abcd-1234", "list": ["pw", "pwned", 42], "abcd-1234": 1}
    assert redactor.redact(value) == {"h": f"Bearer {REDACTED}", "list": [REDACTED, "pwned", 42], REDACTED: 1}
    assert Redactor().redact(value) is value


def test_error_filters_match_given_fields_and_the_standard_kind_aliases() -> None:
    error = CommunicationError("down", status=503, instance="/do/0/x")
    assert ErrorFilter({"status": 503}).matches(error)
    assert ErrorFilter({"type": "https://serverlessworkflow.io/dsl/errors/types/communication"}).matches(
        error
    )
    assert not ErrorFilter({"type": "https://serverlessworkflow.io/dsl/errors/types/timeout"}).matches(error)
    assert not ErrorFilter({"type": "https://example.com/communication"}).matches(error)
    assert ErrorFilter({"details": "down", "instance": "/do/0/x"}).matches(error)
    assert error_kind("https://example.com/errors/timeout") is None


def test_problem_details_round_trip_and_read_well() -> None:
    error = WorkflowError(
        "no pet", type="https://example.com/e", status=404, title="Not Found", instance="/do/1/get"
    )
    assert WorkflowError.from_dict(error.to_dict()).to_dict() == error.to_dict()
    assert str(error) == "Not Found (404): no pet at /do/1/get"
