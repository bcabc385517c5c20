"""What every HttpTransport does, checked over the lean HTTP/1.1 client and aiohttp alike."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import pytest

from baton.engine.http import HttpResponse, HttpTransport, TransportError
from tests.engine.http._upstream import Reply, Seen, answer, upstream
from tests.engine.http.conftest import MakeTransport

LIMIT = 1 << 20


async def get(transport: HttpTransport, url: str, **options: Any) -> HttpResponse:
    settings: dict[str, Any] = {
        "headers": {},
        "body": None,
        "timeout": 2.0,
        "follow_redirects": True,
        "max_body": LIMIT,
    }
    settings.update(options)
    method = settings.pop("method", "GET")
    return await transport.request(method, url, **settings)


def ok(seen: Seen) -> Reply:
    return Reply(answer(seen.target.encode()))


async def test_sequential_requests_share_one_keep_alive_connection(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with upstream(ok) as server:
        for n in range(5):
            response = await get(transport, f"{server.url}/n/{n}")
            assert (response.status, response.body) == (200, f"/n/{n}".encode())
    assert server.connections == 1
    assert [seen.nth for seen in server.requests] == [1, 2, 3, 4, 5]


async def test_an_answer_saying_connection_close_is_not_reused(make_transport: MakeTransport) -> None:
    transport = make_transport()
    # The upstream leaves the socket open: the client must not take that as leave to reuse it.
    async with upstream(lambda seen: Reply(answer(headers={"Connection": "close"}))) as server:
        for _ in range(3):
            assert (await get(transport, server.url + "/")).body == b"ok"
    assert server.connections == 3
    assert [seen.nth for seen in server.requests] == [1, 1, 1]


async def test_an_http_1_0_answer_is_not_reused(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with upstream(lambda seen: Reply(answer(version="HTTP/1.0"))) as server:
        for _ in range(2):
            assert (await get(transport, server.url + "/")).body == b"ok"
    assert server.connections == 2
    assert [seen.nth for seen in server.requests] == [1, 1]


async def test_a_chunked_body_is_joined(make_transport: MakeTransport) -> None:
    chunked = answer(b"4\r\nbato\r\n1\r\nn\r\n0\r\n\r\n", headers={"Transfer-Encoding": "chunked"})
    transport = make_transport()
    async with upstream(lambda seen: Reply(chunked)) as server:
        assert (await get(transport, server.url + "/")).body == b"baton"
        assert (await get(transport, server.url + "/")).body == b"baton"
    assert server.connections == 1


async def test_a_body_without_framing_ends_when_the_upstream_closes(make_transport: MakeTransport) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
    transport = make_transport()
    async with upstream(lambda seen: Reply(raw, close=True)) as server:
        assert (await get(transport, server.url + "/")).body == b"until the end"
        assert (await get(transport, server.url + "/")).body == b"until the end"
    assert server.connections == 2


async def test_a_head_answer_has_no_body_and_the_connection_serves_the_next_request(
    make_transport: MakeTransport,
) -> None:
    def script(seen: Seen) -> Reply:
        if seen.method == "HEAD":
            return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        return Reply(answer(b"after"))

    transport = make_transport()
    async with upstream(script) as server:
        head = await get(transport, server.url + "/", method="HEAD")
        assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", "1234")
        assert (await get(transport, server.url + "/")).body == b"after"
    assert server.connections == 1


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
async def test_204_and_304_answers_have_no_body(make_transport: MakeTransport, status: str) -> None:
    def script(seen: Seen) -> Reply:
        if seen.target == "/empty":
            return Reply(f"HTTP/1.1 {status}\r\nETag: x\r\n\r\n".encode())
        return Reply(answer(b"next"))

    transport = make_transport()
    async with upstream(script) as server:
        empty = await get(transport, server.url + "/empty")
        assert (empty.status, empty.body) == (int(status[:3]), b"")
        assert (await get(transport, server.url + "/")).body == b"next"
    assert server.connections == 1


async def test_interim_1xx_answers_are_skipped(make_transport: MakeTransport) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    transport = make_transport()
    async with upstream(lambda seen: Reply(interim + answer(b"final", headers={"X-Final": "1"}))) as server:
        response = await get(transport, server.url + "/")
    assert (response.status, response.body, response.headers.get("X-Final")) == (200, b"final", "1")
    assert "Link" not in response.headers


async def test_an_upstream_closing_an_idle_connection_is_never_used_again(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport()
    # Keep-alive is announced, then the upstream closes right after answering.
    async with upstream(lambda seen: Reply(answer(), close=True)) as server:
        for _ in range(3):
            assert (await get(transport, server.url + "/")).body == b"ok"
            await asyncio.sleep(0.02)
    assert server.connections == 3
    assert len(server.requests) == 3


async def test_a_get_on_a_reused_connection_dropped_before_answering_is_sent_again_once(
    make_transport: MakeTransport,
) -> None:
    def script(seen: Seen) -> Reply:
        if seen.connection == 1 and seen.nth == 2:
            return Reply(close=True)  # the idle connection dies as the request arrives
        return Reply(answer(f"{seen.connection}".encode()))

    transport = make_transport()
    async with upstream(script) as server:
        assert (await get(transport, server.url + "/")).body == b"1"
        assert (await get(transport, server.url + "/")).body == b"2"
    assert server.connections == 2


async def test_a_post_on_a_reused_connection_dropped_before_answering_is_not_sent_again(
    make_transport: MakeTransport,
) -> None:
    def script(seen: Seen) -> Reply:
        if seen.nth == 2:
            return Reply(close=True)
        return Reply(answer())

    transport = make_transport()
    async with upstream(script) as server:
        await get(transport, server.url + "/", method="POST", body=b"one")
        with pytest.raises(TransportError) as caught:
            await get(transport, server.url + "/", method="POST", body=b"two")
    assert not caught.value.timed_out
    assert not caught.value.unsendable
    assert [seen.body for seen in server.requests] == [b"one", b"two"]


async def test_a_declared_length_over_the_limit_is_too_large(make_transport: MakeTransport) -> None:
    transport = make_transport()
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
    async with upstream(lambda seen: Reply(head + b"x" * 100, delay=0)) as server:
        with pytest.raises(TransportError) as caught:
            await get(transport, server.url + "/", max_body=1000, timeout=1.0)
    assert caught.value.too_large


async def test_a_chunked_body_over_the_limit_is_too_large(make_transport: MakeTransport) -> None:
    chunk = b"%x\r\n%s\r\n" % (600, b"y" * 600)
    body = answer(chunk * 3 + b"0\r\n\r\n", headers={"Transfer-Encoding": "chunked"})
    transport = make_transport()
    async with upstream(lambda seen: Reply(body)) as server:
        with pytest.raises(TransportError) as caught:
            await get(transport, server.url + "/", max_body=1000)
    assert caught.value.too_large


async def test_a_gzip_body_is_decoded_and_its_content_encoding_kept(make_transport: MakeTransport) -> None:
    packed = gzip.compress(b'{"zipped": true}')
    reply = answer(packed, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    transport = make_transport()
    async with upstream(lambda seen: Reply(reply)) as server:
        response = await get(transport, server.url + "/")
    assert response.body == b'{"zipped": true}'
    assert response.headers["Content-Encoding"] == "gzip"
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_deflate_body_is_decoded(make_transport: MakeTransport) -> None:
    reply = answer(zlib.compress(b"deflated" * 10), headers={"Content-Encoding": "deflate"})
    transport = make_transport()
    async with upstream(lambda seen: Reply(reply)) as server:
        assert (await get(transport, server.url + "/")).body == b"deflated" * 10


async def test_a_gzip_bomb_is_too_large_by_its_decoded_size(make_transport: MakeTransport) -> None:
    bomb = gzip.compress(b"\0" * (4 << 20))
    assert len(bomb) < 10_000
    reply = answer(bomb, headers={"Content-Encoding": "gzip"})
    transport = make_transport()
    async with upstream(lambda seen: Reply(reply)) as server:
        with pytest.raises(TransportError) as caught:
            await get(transport, server.url + "/", max_body=LIMIT)
    assert caught.value.too_large


async def test_a_callers_accept_encoding_is_sent_as_it_is(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with upstream(ok) as server:
        await get(transport, server.url + "/", headers={"Accept-Encoding": "identity"})
    assert server.requests[0].headers["accept-encoding"] == "identity"


async def test_no_answer_within_the_timeout_is_a_timed_out_error(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with upstream(lambda seen: Reply(answer(), delay=1.0)) as server:
        with pytest.raises(TransportError) as caught:
            await get(transport, server.url + "/", timeout=0.1)
    assert caught.value.timed_out


async def test_a_cancelled_request_leaves_a_working_transport(make_transport: MakeTransport) -> None:
    def script(seen: Seen) -> Reply:
        return Reply(answer(), delay=1.0 if seen.target == "/slow" else 0.0)

    transport = make_transport()
    async with upstream(script) as server:
        slow = asyncio.ensure_future(get(transport, server.url + "/slow"))
        await asyncio.sleep(0.05)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        assert (await get(transport, server.url + "/")).body == b"ok"
    assert server.connections == 2


async def test_a_303_turns_a_post_into_a_get_without_its_body(make_transport: MakeTransport) -> None:
    def script(seen: Seen) -> Reply:
        if seen.target == "/form":
            return Reply(answer(b"", status="303 See Other", headers={"Location": "/done"}))
        return Reply(answer(f"{seen.method} {seen.body.decode()}".encode()))

    transport = make_transport()
    async with upstream(script) as server:
        response = await get(
            transport,
            server.url + "/form",
            method="POST",
            body=b"x=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.body == b"GET "


@pytest.mark.parametrize("status", ["307 Temporary Redirect", "308 Permanent Redirect"])
async def test_a_307_or_308_repeats_the_method_and_body(make_transport: MakeTransport, status: str) -> None:
    def script(seen: Seen) -> Reply:
        if seen.target == "/old":
            return Reply(answer(b"", status=status, headers={"Location": "new?q=1"}))
        return Reply(answer(f"{seen.method} {seen.target} {seen.body.decode()}".encode()))

    transport = make_transport()
    async with upstream(script) as server:
        response = await get(transport, server.url + "/old", method="PUT", body=b"payload")
    assert response.body == b"PUT /new?q=1 payload"


async def test_without_follow_redirects_the_3xx_is_the_answer(make_transport: MakeTransport) -> None:
    transport = make_transport()
    reply = answer(b"", status="302 Found", headers={"Location": "/elsewhere"})
    async with upstream(lambda seen: Reply(reply)) as server:
        response = await get(transport, server.url + "/", follow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/elsewhere")
    assert len(server.requests) == 1


async def test_a_redirect_loop_stops_with_a_transport_error(make_transport: MakeTransport) -> None:
    transport = make_transport()
    reply = answer(b"", status="302 Found", headers={"Location": "/again"})
    async with upstream(lambda seen: Reply(reply)) as server:
        with pytest.raises(TransportError):
            await get(transport, server.url + "/")
    assert 10 <= len(server.requests) <= 11


async def test_a_redirect_to_another_origin_drops_the_credentials(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with upstream(ok) as other:
        hop = answer(b"", status="302 Found", headers={"Location": other.url + "/landed"})
        async with upstream(lambda seen: Reply(hop)) as first:
            headers = {"Authorization": "Bearer secret", "Cookie": "a=b", "X-Trace": "t"}
            response = await get(transport, first.url + "/", headers=headers)
    assert response.body == b"/landed"
    assert first.requests[0].headers["authorization"] == "Bearer secret"
    landed = other.requests[0].headers
    assert "authorization" not in landed
    assert "cookie" not in landed
    assert landed["x-trace"] == "t"


async def test_a_redirect_to_a_non_http_scheme_is_the_upstreams_fault(make_transport: MakeTransport) -> None:
    transport = make_transport()
    reply = answer(b"", status="302 Found", headers={"Location": "ftp://files.example/x"})
    async with upstream(lambda seen: Reply(reply)) as server:
        with pytest.raises(TransportError) as caught:
            await get(transport, server.url + "/")
    assert not caught.value.unsendable


async def test_the_host_header_names_a_non_default_port(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with upstream(ok) as server:
        await get(transport, server.url + "/")
    assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"


async def test_a_post_without_body_sends_content_length_zero(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with upstream(ok) as server:
        await get(transport, server.url + "/", method="POST")
    assert server.requests[0].headers["content-length"] == "0"


@pytest.mark.parametrize(
    "headers",
    [{"X-Evil": "a\r\nInjected: yes"}, {"X-Evil": "a\nb"}, {"Bad Name": "v"}, {"X:Colon": "v"}],
    ids=["crlf", "lf", "space-in-name", "colon-in-name"],
)
async def test_a_header_that_would_corrupt_the_request_is_unsendable(
    make_transport: MakeTransport, headers: dict[str, str]
) -> None:
    transport = make_transport()
    async with upstream(ok) as server:
        with pytest.raises(TransportError) as caught:
            await get(transport, server.url + "/", headers=headers)
    assert caught.value.unsendable
    assert server.requests == []


async def test_a_method_that_is_not_a_token_is_unsendable(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with upstream(ok) as server:
        with pytest.raises(TransportError) as caught:
            await get(transport, server.url + "/", method="GET /x")
    assert caught.value.unsendable


async def test_too_many_response_headers_are_a_transport_error(make_transport: MakeTransport) -> None:
    many = {f"X-H{n}": "v" for n in range(300)}
    transport = make_transport()
    async with upstream(lambda seen: Reply(answer(headers=many))) as server:
        with pytest.raises(TransportError):
            await get(transport, server.url + "/")


async def test_a_response_head_over_the_size_limit_is_a_transport_error(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport()
    huge = answer(headers={"X-Huge": "v" * 70_000})
    async with upstream(lambda seen: Reply(huge)) as server:
        with pytest.raises(TransportError):
            await get(transport, server.url + "/")


@pytest.mark.parametrize(
    "raw",
    [
        b"garbage that is not http\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Len",
    ],
    ids=["garbage", "eof-mid-body", "eof-mid-chunk", "bad-length", "bad-status", "eof-mid-head"],
)
async def test_a_malformed_or_cut_answer_is_a_transport_error(
    make_transport: MakeTransport, raw: bytes
) -> None:
    transport = make_transport()
    async with upstream(lambda seen: Reply(raw, close=True)) as server:
        with pytest.raises(TransportError):
            await get(transport, server.url + "/")


async def test_of_repeated_headers_the_last_wins_with_the_upstreams_spelling(
    make_transport: MakeTransport,
) -> None:
    raw = b"HTTP/1.1 200 OK\r\nX-Multi: one\r\nX-Multi: two\r\nX-CaSe: kept\r\nContent-Length: 0\r\n\r\n"
    transport = make_transport()
    async with upstream(lambda seen: Reply(raw)) as server:
        response = await get(transport, server.url + "/")
    assert response.headers["X-CaSe"] == "kept"
    assert response.headers["X-Multi"] == "two"


async def test_close_closes_every_connection_and_the_transport_opens_new_ones(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport()
    async with upstream(ok) as server:
        await asyncio.gather(*(get(transport, server.url + f"/{n}") for n in range(3)))
        await transport.close()
        for _ in range(50):
            if server.open_now == 0:
                break
            await asyncio.sleep(0.01)
        assert server.open_now == 0
        assert (await get(transport, server.url + "/again")).body == b"/again"


async def test_the_connection_limit_holds_and_every_waiting_request_is_answered(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport(connection_limit=2)
    async with upstream(lambda seen: Reply(answer(seen.target.encode()), delay=0.02)) as server:
        bodies = await asyncio.gather(*(get(transport, server.url + f"/{n}") for n in range(8)))
    assert [b.body for b in bodies] == [f"/{n}".encode() for n in range(8)]
    assert server.most_open <= 2


async def test_a_refused_connection_is_a_transport_error(make_transport: MakeTransport) -> None:
    async with upstream(ok) as server:
        url = server.url
    transport = make_transport()
    with pytest.raises(TransportError) as caught:
        await get(transport, url + "/")
    assert not caught.value.unsendable
    assert not caught.value.timed_out


async def test_the_host_map_sends_a_public_host_to_its_stand_in(make_transport: MakeTransport) -> None:
    async with upstream(ok) as server:
        transport = make_transport(host_map={"api.example.com": server.url})
        response = await get(transport, "https://api.example.com/v1/pets?x=1")
    assert response.body == b"/v1/pets?x=1"
    assert response.url == "https://api.example.com/v1/pets?x=1"
