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


def test_uri_template_values_are_encoded_exactly_as_quote_would_encode_them() -> None:
    from urllib.parse import quote

    from baton.engine._state import Scope
    from baton.engine.tasks.call_http import UriTemplate

    template = UriTemplate("https://x.example/{v}", expression=None)
    rng = random.Random(3)
    alphabet = "aZ09-_.~ /?#%+&=é€\t:@!*'()"
    values: list[object] = [0, -7, 10**30, 1.5, -0.25, 1e20, 1e-7, "", "plain", "a b", "ü", "~tilde"]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(500)]
    scope: Scope = None  # type: ignore[assignment]  # a template without ${ } never reads it
    for value in values:
        assert template.render({"v": value}, scope) == f"https://x.example/{quote(str(value), safe='')}"


def test_content_types_are_read_case_insensitively_without_parameters() -> None:
    from baton.engine.tasks.call_http import decode_body

    assert decode_body(b'{"a": 1}', {"content-TYPE": "Application/JSON; charset=utf-8"}) == {"a": 1}
    assert decode_body(b'{"a": 1}', {"Content-Type": " text/plain ;q=1"}) == '{"a": 1}'
    assert decode_body(b'{"a": 1}', {"X-Other": "application/json"}) == {"a": 1}  # no type: sniffed


def test_an_unlimited_exponential_backoff_never_overflows_and_ends_in_the_step_budget() -> None:
    rng = random.Random(1)
    assert RetryPolicy(backoff="exponential").delay_before(5000, rng) == 0.0
    assert RetryPolicy(delay=0.5, backoff="exponential").delay_before(5000, rng) > 1e300


def test_secrets_are_masked_as_they_read_in_messages_json_escaped_and_percent_encoded() -> None:
    redactor = Redactor(['p"ss wörd/&'])
    seen = {
        'string ("p\\"ss wörd/&") is bad': 'string ("***") is bad',  # jq quotes JSON-style
        'string ("p\\"ss w\\u00f6rd/&")': 'string ("***")',  # ... or ASCII-only
        "GET https://x/p%22ss%20w%C3%B6rd%2F%26 failed": "GET https://x/*** failed",  # a URI template value
        "GET https://x/?k=p%22ss+w%C3%B6rd%2F%26 failed": "GET https://x/?k=*** failed",  # a query value
    }
    for message, masked in seen.items():
        assert redactor.redact_text(message) == masked
