"""Http1Transport's own rules, beyond what every transport does: pooling, retries, TLS, refusals."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from baton import __version__
from baton.engine.http import Http1Transport, TransportError
from baton.engine.http._connection import Connection, ConnectionDropped
from tests.engine.http._upstream import Reply, Seen, answer, upstream
from tests.engine.http.test_contract import get, ok


async def test_a_303_drops_the_headers_that_described_the_body(http1: Http1Transport) -> None:
    def script(seen: Seen) -> Reply:
        if seen.target == "/form":
            return Reply(answer(b"", status="303 See Other", headers={"Location": "/done"}))
        return Reply(answer())

    async with upstream(script) as server:
        await get(
            http1, server.url + "/form", method="POST", body=b"x", headers={"Content-Type": "text/plain"}
        )
    follow = server.requests[1]
    assert (follow.method, follow.body) == ("GET", b"")
    assert "content-type" not in follow.headers
    assert "content-length" not in follow.headers


async def test_a_head_redirected_by_a_301_stays_a_head(http1: Http1Transport) -> None:
    def script(seen: Seen) -> Reply:
        if seen.target == "/old":
            return Reply(answer(b"", status="301 Moved Permanently", headers={"Location": "/new"}))
        return Reply(answer(b"body"))

    async with upstream(script) as server:
        response = await get(http1, server.url + "/old", method="HEAD")
    assert [seen.method for seen in server.requests] == ["HEAD", "HEAD"]
    assert response.body == b""


@pytest.mark.parametrize(
    "path", ["/caf\u00e9", "/a b", "/tab\there", "/nul\x00"], ids=["non-ascii", "space", "tab", "nul"]
)
async def test_a_url_that_would_corrupt_the_request_line_is_unsendable(
    http1: Http1Transport, path: str
) -> None:
    async with upstream(ok) as server:
        with pytest.raises(TransportError) as caught:
            await get(http1, server.url + path)
    assert caught.value.unsendable
    assert server.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "http://",
        "http://host:99999/",
        "http://host:http/",
        "no-scheme/x",
        "http://[::1/",
    ],
)
async def test_a_url_that_names_no_reachable_http_origin_is_unsendable(
    http1: Http1Transport, url: str
) -> None:
    with pytest.raises(TransportError) as caught:
        await get(http1, url)
    assert caught.value.unsendable


async def test_the_default_user_agent_names_baton_and_a_callers_own_is_kept(http1: Http1Transport) -> None:
    async with upstream(ok) as server:
        await get(http1, server.url + "/")
        await get(http1, server.url + "/", headers={"user-agent": "mine/1"})
    assert server.requests[0].headers["user-agent"] == f"baton/{__version__}"
    assert server.requests[1].headers["user-agent"] == "mine/1"
    assert [name for name, _ in server.requests[1].raw_headers].count("User-Agent") == 0


async def test_a_callers_host_header_is_sent_instead_of_the_urls(http1: Http1Transport) -> None:
    async with upstream(ok) as server:
        await get(http1, server.url + "/", headers={"Host": "virtual.example"})
    assert server.requests[0].headers["host"] == "virtual.example"
    assert [name.lower() for name, _ in server.requests[0].raw_headers].count("host") == 1


async def test_a_callers_content_length_is_replaced_by_the_bodys_own(http1: Http1Transport) -> None:
    async with upstream(ok) as server:
        await get(http1, server.url + "/", method="PUT", body=b"four", headers={"Content-Length": "999"})
    assert server.requests[0].headers["content-length"] == "4"
    assert server.requests[0].body == b"four"


async def test_an_ipv6_host_is_bracketed_in_the_host_header(http1: Http1Transport) -> None:
    if not socket.has_ipv6:
        pytest.skip("this machine has no IPv6")
    try:
        async with upstream(ok, host="::1") as server:
            await get(http1, server.url + "/six")
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    assert server.requests[0].headers["host"] == f"[::1]:{server.port}"


async def test_credentials_in_the_url_become_basic_authorization(http1: Http1Transport) -> None:
    async with upstream(ok) as server:
        url = server.url.replace("://", "://al%20ice:s%3Acret@") + "/"
        await get(http1, url)
    assert server.requests[0].headers["authorization"] == "Basic YWwgaWNlOnM6Y3JldA=="


async def test_a_101_answer_is_a_transport_error(http1: Http1Transport) -> None:
    raw = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    async with upstream(lambda seen: Reply(raw)) as server:
        with pytest.raises(TransportError, match="switched protocols"):
            await get(http1, server.url + "/")
    assert http1.pool.open_connections == 0


async def test_the_retry_after_a_dropped_reused_connection_happens_only_once(http1: Http1Transport) -> None:
    def script(seen: Seen) -> Reply:
        if (seen.connection, seen.nth) in ((1, 2), (2, 1)):
            return Reply(close=True)
        return Reply(answer())

    async with upstream(script) as server:
        await get(http1, server.url + "/")
        with pytest.raises(TransportError):
            await get(http1, server.url + "/")
    assert len(server.requests) == 3


async def test_a_new_connection_dropped_before_answering_is_not_retried(http1: Http1Transport) -> None:
    async with upstream(lambda seen: Reply(close=True)) as server:
        with pytest.raises(TransportError, match="closed"):
            await get(http1, server.url + "/")
    assert len(server.requests) == 1


async def test_an_idle_connection_past_the_idle_timeout_is_not_reused() -> None:
    transport = Http1Transport(idle_timeout=0.05)
    try:
        async with upstream(ok) as server:
            await get(transport, server.url + "/")
            await get(transport, server.url + "/")
            await asyncio.sleep(0.1)
            await get(transport, server.url + "/")
    finally:
        await transport.close()
    assert [seen.connection for seen in server.requests] == [1, 1, 2]


async def test_idle_connections_are_closed_after_the_idle_timeout_without_further_requests() -> None:
    transport = Http1Transport(idle_timeout=0.05)
    try:
        async with upstream(ok) as first, upstream(ok) as second:
            await asyncio.gather(get(transport, first.url + "/"), get(transport, second.url + "/"))
            assert transport.pool.open_connections == 2
            # Polled, not slept for a fixed time: the machine may be busy.
            for _ in range(100):
                if transport.pool.open_connections == 0 and first.open_now == second.open_now == 0:
                    break
                await asyncio.sleep(0.01)
            assert transport.pool.open_connections == 0
            assert (first.open_now, second.open_now) == (0, 0)
    finally:
        await transport.close()


async def test_requests_waiting_for_a_connection_are_served_in_arrival_order() -> None:
    transport = Http1Transport(connection_limit=1)
    try:
        async with upstream(lambda seen: Reply(answer(), delay=0.01)) as server:
            tasks = []
            for n in range(5):
                tasks.append(asyncio.ensure_future(get(transport, server.url + f"/{n}")))
                await asyncio.sleep(0)
            await asyncio.gather(*tasks)
    finally:
        await transport.close()
    assert [seen.target for seen in server.requests] == [f"/{n}" for n in range(5)]
    assert server.connections == 1


async def test_at_the_limit_an_idle_connection_to_another_origin_makes_room() -> None:
    transport = Http1Transport(connection_limit=1)
    try:
        async with upstream(ok) as first, upstream(ok) as second:
            await get(transport, first.url + "/")
            await get(transport, second.url + "/")
            await get(transport, first.url + "/")
            assert transport.pool.open_connections == 1
    finally:
        await transport.close()
    assert (first.connections, second.connections) == (2, 1)


async def test_a_request_cancelled_while_waiting_for_a_slot_gives_no_slot_away() -> None:
    transport = Http1Transport(connection_limit=1)
    try:

        def script(seen: Seen) -> Reply:
            return Reply(answer(seen.target.encode()), delay=0.05 if seen.target == "/slow" else 0.0)

        async with upstream(script) as server:
            slow = asyncio.ensure_future(get(transport, server.url + "/slow"))
            await asyncio.sleep(0.01)
            waiting = asyncio.ensure_future(get(transport, server.url + "/gave-up"))
            await asyncio.sleep(0.01)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert (await slow).body == b"/slow"
            assert (await get(transport, server.url + "/next")).body == b"/next"
            assert transport.pool.open_connections == 1
    finally:
        await transport.close()
    assert [seen.target for seen in server.requests] == ["/slow", "/next"]
    assert server.connections == 1


async def test_closing_the_transport_fails_a_request_in_flight(http1: Http1Transport) -> None:
    async with upstream(lambda seen: Reply(answer(), delay=1.0)) as server:
        pending = asyncio.ensure_future(get(http1, server.url + "/"))
        await asyncio.sleep(0.05)
        await http1.close()
        with pytest.raises(TransportError, match="closed by the client"):
            await pending
        assert http1.pool.open_connections == 0


async def test_large_bodies_travel_whole_both_ways(http1: Http1Transport) -> None:
    big = bytes(range(256)) * 8192  # 2 MiB

    def script(seen: Seen) -> Reply:
        return Reply(answer(seen.body[::-1]))

    async with upstream(script) as server:
        response = await get(http1, server.url + "/", method="POST", body=big, max_body=len(big))
    assert server.requests[0].body == big
    assert response.body == big[::-1]


async def test_a_cancelled_request_closes_its_connection_instead_of_pooling_it(http1: Http1Transport) -> None:
    async with upstream(lambda seen: Reply(answer(), delay=1.0)) as server:
        task = asyncio.ensure_future(get(http1, server.url + "/"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert http1.pool.open_connections == 0


async def test_a_timeout_closes_the_connection(http1: Http1Transport) -> None:
    async with upstream(lambda seen: Reply(answer(), delay=1.0)) as server:
        with pytest.raises(TransportError) as caught:
            await get(http1, server.url + "/", timeout=0.05)
        assert caught.value.timed_out
        assert http1.pool.open_connections == 0
        # The timeout left no cancellation behind for the caller's next await.
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
        await asyncio.sleep(0)


async def test_a_body_over_the_limit_closes_the_connection(http1: Http1Transport) -> None:
    async with upstream(lambda seen: Reply(answer(b"z" * 5000))) as server:
        with pytest.raises(TransportError):
            await get(http1, server.url + "/", max_body=100)
        assert http1.pool.open_connections == 0
        assert (await get(http1, server.url + "/", max_body=10_000)).body == b"z" * 5000
    assert server.connections == 2


async def test_a_head_answer_followed_by_a_body_keeps_the_connection_from_reuse(
    http1: Http1Transport,
) -> None:
    def script(seen: Seen) -> Reply:
        return Reply(answer(b"oops") if seen.method == "HEAD" else answer(b"get"))

    async with upstream(script) as server:
        assert (await get(http1, server.url + "/", method="HEAD")).body == b""
        assert (await get(http1, server.url + "/")).body == b"get"
    assert [seen.nth for seen in server.requests] == [1, 1]


async def test_bytes_after_a_complete_answer_keep_the_connection_from_reuse(http1: Http1Transport) -> None:
    async with upstream(lambda seen: Reply(answer() + b"HTTP/1.1 200 OK\r\n")) as server:
        assert (await get(http1, server.url + "/")).body == b"ok"
        assert (await get(http1, server.url + "/")).body == b"ok"
    assert server.connections == 2


async def test_an_upstream_that_never_answers_still_times_out_while_connecting(http1: Http1Transport) -> None:
    # A listening socket whose backlog is full leaves the next connect pending.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        port = listener.getsockname()[1]
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        with pytest.raises(TransportError) as caught:
            await get(http1, f"http://127.0.0.1:{port}/", timeout=0.1)
        assert caught.value.timed_out
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# --- TLS against a local server with a certificate made here


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


async def test_https_reaches_a_server_whose_certificate_the_context_trusts(
    certificate: tuple[Path, Path],
) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    transport = Http1Transport(ssl_context=trusting)
    try:
        async with upstream(ok, ssl_context=_server_context(certificate)) as server:
            url = f"https://localhost:{server.port}"
            assert (await get(transport, url + "/secure")).body == b"/secure"
            assert (await get(transport, url + "/again")).body == b"/again"
    finally:
        await transport.close()
    assert server.connections == 1
    assert server.requests[0].headers["host"] == f"localhost:{server.port}"


async def test_https_refuses_a_certificate_no_trusted_authority_signed(
    http1: Http1Transport, certificate: tuple[Path, Path]
) -> None:
    async with upstream(ok, ssl_context=_server_context(certificate)) as server:
        with pytest.raises(TransportError, match="cannot connect") as caught:
            await get(http1, f"https://localhost:{server.port}/")
    assert not caught.value.unsendable
    assert server.requests == []


async def test_a_connection_found_closed_before_writing_reports_that_nothing_was_sent() -> None:
    async with upstream(ok) as server:
        loop = asyncio.get_running_loop()
        closed: list[Connection] = []
        _, conn = await loop.create_connection(
            lambda: Connection("key", closed.append), "127.0.0.1", server.port
        )
        conn.close()
        with pytest.raises(ConnectionDropped) as caught:
            await conn.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", head_only=False, max_body=100)
    assert caught.value.sent is False
    assert closed == [conn]
    assert server.requests == []


async def test_a_transport_error_names_the_url_without_its_credentials_or_query(
    http1: Http1Transport,
) -> None:
    async with upstream(lambda seen: Reply(close=True)) as server:
        url = server.url.replace("://", "://user:pa55word@") + "/path?token=t0ken"
        with pytest.raises(TransportError) as caught:
            await get(http1, url)
    message = str(caught.value)
    assert f"127.0.0.1:{server.port}/path" in message
    assert "pa55word" not in message
    assert "t0ken" not in message
