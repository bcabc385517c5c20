"""``call: http`` against real aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aiohttp import web

from baton.engine import DEADLINE_HEADER, RunEnvironment, compile_workflow
from tests.engine._support import document, run, upstream


async def _pet(request: web.Request) -> web.Response:
    pet_id = int(request.match_info["id"])
    if pet_id == 404:
        return web.json_response({"message": "Pet not found"}, status=404)
    return web.json_response({"id": pet_id, "name": "milou", "status": "available"})


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "query": dict(request.query),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": body.decode() if body else None,
        }
    )


def _get(uri: str, **extra: Any) -> dict[str, Any]:
    return {"call": "http", "with": {"method": "get", "endpoint": {"uri": uri}, **extra}}


async def test_a_get_with_a_uri_template_outputs_the_decoded_json_content(env: RunEnvironment) -> None:
    async with upstream({("GET", "/v2/pet/{id}"): _pet}) as up:
        result = await run(
            [{"getPet": {**_get(up.url("/v2/pet/{petId}")), "output": {"as": ".name"}}}],
            {"petId": 7},
            env=env,
        )
    assert result.status == "completed", result.error
    assert result.output == "milou"
    assert up.requests[0]["path"] == "/v2/pet/7"


async def test_public_hosts_can_be_mapped_to_a_local_stand_in() -> None:
    async with (
        upstream({("GET", "/v2/pet/{id}"): _pet}) as up,
        RunEnvironment(host_map={"petstore.swagger.io": up.url("/")}) as env,
    ):
        task = _get("https://petstore.swagger.io/v2/pet/{petId}")
        result = await run([{"getPet": task}], {"petId": 1}, env=env)
    assert result.output == {"id": 1, "name": "milou", "status": "available"}


async def test_response_output_describes_request_status_headers_and_content(env: RunEnvironment) -> None:
    async with upstream({("GET", "/v2/pet/{id}"): _pet}) as up:
        uri = up.url("/v2/pet/{petId}")
        result = await run(
            [{"getPet": _get(uri, output="response", headers={"X-Trace": "abc"})}], {"petId": 1}, env=env
        )
    output = result.output
    assert output["statusCode"] == 200
    assert output["request"] == {
        "method": "get",
        "uri": uri.replace("{petId}", "1"),
        "headers": {"X-Trace": "abc"},
    }
    assert output["headers"]["Content-Type"].startswith("application/json")
    assert output["content"]["name"] == "milou"


async def test_raw_output_is_the_base64_body(env: RunEnvironment) -> None:
    async def text(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00\x01hello", content_type="application/octet-stream")

    async with upstream({("GET", "/bin"): text}) as up:
        result = await run([{"get": _get(up.url("/bin"), output="raw")}], env=env)
    assert base64.b64decode(result.output) == b"\x00\x01hello"


async def test_headers_query_and_json_body_are_rendered_from_expressions(env: RunEnvironment) -> None:
    async with upstream({("POST", "/echo"): _echo}) as up:
        result = await run(
            [
                {
                    "post": {
                        "call": "http",
                        "with": {
                            "method": "post",
                            "endpoint": up.url("/echo?fixed=1"),
                            "headers": {"X-User": "${ .user }"},
                            "query": {"page": "${ .page }", "skip": None},
                            "body": {"name": "${ .user }", "tags": ["a", "${ .tag }"]},
                        },
                    }
                }
            ],
            {"user": "ann", "page": 2, "tag": "b"},
            env=env,
        )
    echo = result.output
    assert echo["method"] == "POST"
    assert echo["query"] == {"fixed": "1", "page": "2"}
    assert echo["headers"]["x-user"] == "ann"
    assert echo["headers"]["content-type"] == "application/json"
    assert json.loads(echo["body"]) == {"name": "ann", "tags": ["a", "b"]}


async def test_a_non_2xx_answer_is_a_communication_error_with_its_status(env: RunEnvironment) -> None:
    async with upstream({("GET", "/v2/pet/{id}"): _pet}) as up:
        result = await run([{"getPet": _get(up.url("/v2/pet/404"))}], env=env)
    assert result.status == "faulted"
    error = result.error
    assert error is not None
    assert error.type == "https://serverlessworkflow.io/spec/1.0.0/errors/communication"
    assert error.status == 404
    assert error.title == "Not Found"
    assert error.instance == "/do/0/getPet"


async def test_redirects_are_errors_unless_redirect_is_true(env: RunEnvironment) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/v2/pet/3")

    async with upstream({("GET", "/old"): moved, ("GET", "/v2/pet/{id}"): _pet}) as up:
        refused = await run([{"get": _get(up.url("/old"))}], env=env)
        followed = await run([{"get": _get(up.url("/old"), redirect=True)}], env=env)
    assert refused.error is not None
    assert refused.error.status == 302
    assert followed.output["id"] == 3


async def test_an_unreachable_service_is_a_communication_error(env: RunEnvironment) -> None:
    async with upstream({}) as up:
        dead = up.url("/gone")
    result = await run([{"get": _get(dead)}], env=env)
    assert result.error is not None
    assert result.error.type.endswith("/communication")
    assert result.error.status == 503


async def test_the_remaining_run_budget_is_sent_downstream(env: RunEnvironment) -> None:
    async with upstream({("GET", "/echo"): _echo}) as up:
        workflow = compile_workflow(document([{"get": _get(up.url("/echo"))}]))
        result = await workflow.run(
            None, env=env, deadline=env.clock.monotonic() + 5.0, call_headers={"X-Run": "r1"}
        )
    headers = result.output["headers"]
    assert 0 < int(headers[DEADLINE_HEADER.lower()]) <= 5000
    assert headers["x-run"] == "r1"


async def test_a_response_over_the_payload_limit_is_refused(env: RunEnvironment) -> None:
    from baton.engine import Limits

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    async with upstream({("GET", "/big"): big}) as up:
        result = await run([{"get": _get(up.url("/big"))}], env=env, limits=Limits(max_payload_bytes=1000))
    assert result.error is not None
    assert result.error.title == "Response too large"


async def test_a_custom_function_from_use_functions_is_called_with_its_arguments(env: RunEnvironment) -> None:
    async with upstream({("GET", "/v2/pet/{id}"): _pet}) as up:
        result = await run(
            [{"fetch": {"call": "getPet", "with": {"petId": "${ .id }"}}}],
            {"id": 5},
            env=env,
            use={"functions": {"getPet": _get(up.url("/v2/pet/{petId}"))}},
        )
    assert result.status == "completed", result.error
    assert result.output["id"] == 5


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (
            {"method": "get", "endpoint": '${ $context.echo + "?q=" + .v }'},
            "holds a space or control character",
        ),
        ({"method": "get", "endpoint": "${ $context.echo }", "headers": {"X-Note": "${ .v }"}}, "'X-Note'"),
        ({"method": "GE T", "endpoint": "${ $context.echo }"}, "method 'GE T' is not an HTTP token"),
        ({"method": "get", "endpoint": "http://127.0.0.1:99999/echo"}, "port '99999'"),
    ],
    ids=["crlf-in-endpoint", "crlf-in-header", "method-not-a-token", "port-out-of-range"],
)
async def test_a_request_that_cannot_be_sent_as_it_is_is_a_configuration_error_and_injects_nothing(
    env: RunEnvironment, call: dict[str, Any], named: str
) -> None:
    async with upstream({("GET", "/echo"): _echo}) as up:
        result = await run(
            [
                {"where": {"set": {"v": "${ .v }"}, "export": {"as": {"echo": up.url("/echo")}}}},
                {"send": {"call": "http", "with": call}},
            ],
            {"v": "a\r\nX-Injected: yes"},
            env=env,
        )
        assert up.requests == []
    assert result.error is not None
    assert (result.error.status, result.error.title) == (400, "Request not sendable")
    assert result.error.type.endswith("/configuration")
    assert result.error.instance == "/do/1/send"
    assert named in (result.error.detail or "")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b'{"total": NaN}', "NaN is not a JSON number"),
        (b'{"total": [1, 1e400]}', "1e400 is out of range for a number"),
        (
            b'{"name": "\\udfff"}',
            "the string holds an unpaired UTF-16 surrogate (\\udfff), which is not Unicode text at /name",
        ),
        (b"[" * 5000 + b"]" * 5000, "arrays and objects are nested too deeply to read"),
    ],
    ids=["nan", "overflow", "surrogate", "deep"],
)
async def test_an_answer_json_does_not_allow_is_a_communication_fault_naming_what_and_where(
    env: RunEnvironment, answer: bytes, reason: str
) -> None:
    async def answer_with(request: web.Request) -> web.Response:
        return web.Response(body=answer, content_type="application/problem+json")

    async with upstream({("GET", "/total"): answer_with}) as up:
        url = up.url("/total")
        result = await run([{"fetch": _get(url)}], {}, env=env)
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type.endswith("/communication")
    assert result.error.title == "Malformed upstream response"
    assert result.error.instance == "/do/0/fetch"
    assert result.error.detail == f"GET {url} answered JSON that a run cannot carry: {reason}"


@pytest.mark.parametrize(
    ("content_type", "body", "content"),
    [
        ("text/plain; charset=iso-8859-1", b"caf\xe9", "café"),
        ("text/xml; charset=UTF-16", "<a>é</a>".encode("utf-16"), "<a>é</a>"),
        ('application/json; charset="latin1"', b'{"name": "caf\xe9"}', {"name": "café"}),
        ("text/plain; charset=utf8", "café".encode(), "café"),
        ("text/plain; charset=x-unknown", "café".encode(), "café"),  # unknown: UTF-8 is tried
        ("text/plain", b"caf\xe9", base64.b64encode(b"caf\xe9").decode()),  # not UTF-8, undeclared
    ],
    ids=["latin-1-text", "utf-16-xml", "latin-1-json", "utf8-alias", "unknown-charset", "undeclared"],
)
async def test_an_answer_is_decoded_with_the_charset_it_declares(
    env: RunEnvironment, content_type: str, body: bytes, content: Any
) -> None:
    # ISO-8859-1 text from a legacy service was not UTF-8 and reached the flow as base64.
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": content_type})

    async with upstream({("GET", "/legacy"): answer}) as up:
        result = await run([{"fetch": _get(up.url("/legacy"))}], {}, env=env)
    assert result.status == "completed", result.error
    assert result.output == content


async def test_a_text_body_is_written_in_the_charset_the_call_declares(env: RunEnvironment) -> None:
    async def accept(request: web.Request) -> web.Response:
        return web.json_response({})

    async with upstream({("POST", "/legacy"): accept}) as up:
        declared = {"Content-Type": "text/plain; charset=ISO-8859-1"}
        fits = {"send": _get(up.url("/legacy"), method="post", headers=declared, body="café")}
        result = await run([fits], {}, env=env)
        does_not = {"send": _get(up.url("/legacy"), method="post", headers=declared, body="5 €")}
        refused = await run([does_not], {}, env=env)
    assert result.status == "completed", result.error
    assert up.requests[0]["body"] == b"caf\xe9"  # UTF-8 bytes labelled ISO-8859-1 read as mojibake
    assert refused.status == "faulted"
    assert refused.error is not None
    assert (
        refused.error.detail
        == "call body cannot be written in iso8859-1: '€' at position 2 (ordinal not in range(256))"
    )
    assert len(up.requests) == 1


async def test_an_answer_nested_deeper_than_client_input_may_be_is_carried(env: RunEnvironment) -> None:
    # Client input is held to 128 levels (schemas walk it recursively); an upstream's answer is
    # read to the interpreter's bound, as the engine carries deep data, and is not walked for it.
    async def deep(request: web.Request) -> web.Response:
        return web.Response(
            body=b'{"tree": ' + b"[" * 300 + b"]" * 300 + b"}", content_type="application/json"
        )

    async with upstream({("GET", "/deep"): deep}) as up:
        result = await run(
            [{"fetch": {**_get(up.url("/deep")), "output": {"as": ".tree | length"}}}], {}, env=env
        )
    assert result.status == "completed", result.error
    assert result.output == 1
