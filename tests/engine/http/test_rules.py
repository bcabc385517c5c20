"""The pure rules under the transport: redirects, decoding, URL splitting, request heads."""

from __future__ import annotations

import gzip
import zlib

import pytest

from baton.engine.http import TransportError
from baton.engine.http._decoding import decode
from baton.engine.http._hosts import HostMap
from baton.engine.http._origins import split_url
from baton.engine.http._redirects import next_hop
from baton.engine.http._request_head import encode_head


def test_a_302_after_a_put_is_a_get_without_body_or_body_headers() -> None:
    hop = next_hop(
        302,
        "/next",
        method="PUT",
        url="http://a.example/x",
        headers={"Content-Type": "application/json", "X-Keep": "1"},
        body=b"{}",
    )
    assert (hop.method, hop.url, hop.body, dict(hop.headers)) == (
        "GET",
        "http://a.example/next",
        None,
        {"X-Keep": "1"},
    )


def test_a_relative_location_resolves_against_the_url_it_answered() -> None:
    hop = next_hop(307, "../up?x=1#frag", method="POST", url="http://a.example/a/b/c", headers={}, body=b"b")
    assert (hop.method, hop.url, hop.body) == ("POST", "http://a.example/a/up?x=1", b"b")


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("http://a.example:80/same", True),
        ("HTTP://A.EXAMPLE/case", True),
        ("https://a.example/tls", False),
        ("http://a.example:8080/port", False),
        ("http://b.example/host", False),
    ],
)
def test_credentials_follow_a_redirect_only_within_the_origin(target: str, kept: bool) -> None:
    headers = {"authorization": "Bearer t", "Cookie": "c=1", "Proxy-Authorization": "p"}
    hop = next_hop(302, target, method="GET", url="http://a.example/x", headers=headers, body=None)
    assert (dict(hop.headers) == headers) is kept
    if not kept:
        assert dict(hop.headers) == {}


@pytest.mark.parametrize("location", ["ftp://a.example/f", "javascript:alert(1)", "file:///etc/passwd"])
def test_a_location_no_http_request_can_follow_is_a_transport_error(location: str) -> None:
    with pytest.raises(TransportError) as caught:
        next_hop(302, location, method="GET", url="http://a.example/", headers={}, body=None)
    assert not caught.value.unsendable


def test_several_gzip_members_decode_to_their_concatenation() -> None:
    body = gzip.compress(b"one ") + gzip.compress(b"two")
    assert decode(body, "gzip", max_body=100) == b"one two"


def test_raw_deflate_without_the_zlib_wrapper_is_accepted() -> None:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = packer.compress(b"raw deflate") + packer.flush()
    assert decode(raw, "deflate", max_body=100) == b"raw deflate"


def test_stacked_codings_are_undone_last_first() -> None:
    body = gzip.compress(zlib.compress(b"twice"))
    assert decode(body, "deflate, gzip", max_body=100) == b"twice"


def test_a_coding_that_was_not_asked_for_is_passed_on_untouched() -> None:
    assert decode(b"\x8b\x00brotli?", "br", max_body=100) == b"\x8b\x00brotli?"


def test_a_body_that_decodes_exactly_to_the_limit_is_accepted_and_one_byte_more_is_not() -> None:
    assert decode(gzip.compress(b"x" * 100), "gzip", max_body=100) == b"x" * 100
    with pytest.raises(TransportError) as caught:
        decode(gzip.compress(b"x" * 101), "gzip", max_body=100)
    assert caught.value.too_large


@pytest.mark.parametrize(
    "body", [b"not gzip at all", gzip.compress(b"cut short" * 50)[:-12]], ids=["junk", "truncated"]
)
def test_broken_gzip_is_a_transport_error(body: bytes) -> None:
    with pytest.raises(TransportError) as caught:
        decode(body, "gzip", max_body=10_000)
    assert not caught.value.too_large


@pytest.mark.parametrize(
    ("url", "host_header", "target"),
    [
        ("http://a.example", "a.example", "/"),
        ("http://A.Example:80/p?q=1#f", "a.example", "/p?q=1"),
        ("https://a.example:443?q", "a.example", "/?q"),
        ("https://a.example:8443/", "a.example:8443", "/"),
        ("http://[::1]:8080/six", "[::1]:8080", "/six"),
        ("http://b\u00fccher.example/", "xn--bcher-kva.example", "/"),
    ],
)
def test_a_url_splits_into_origin_and_request_target(url: str, host_header: str, target: str) -> None:
    origin, got = split_url(url)
    assert (origin.host_header, got) == (host_header, target)


def test_the_request_head_frames_the_body_and_adds_what_the_caller_left_out() -> None:
    head = encode_head("POST", "/p", {"X-A": "1"}, host="h:81", body=b"abc").decode()
    lines = head.split("\r\n")
    assert lines[0] == "POST /p HTTP/1.1"
    assert lines[1] == "Host: h:81"
    assert "Content-Length: 3" in lines
    assert "Accept-Encoding: gzip, deflate" in lines
    assert head.endswith("\r\n\r\n")


def test_a_get_without_body_sends_no_content_length() -> None:
    assert b"Content-Length" not in encode_head("GET", "/", {}, host="h", body=None)


def test_the_host_map_matches_host_and_port_before_host_alone() -> None:
    hosts = HostMap({"api.example": "http://127.0.0.1:1", "api.example:8443": "http://127.0.0.1:2"})
    assert hosts.rewrite("https://API.example/a?b") == "http://127.0.0.1:1/a?b"
    assert hosts.rewrite("https://api.example:8443/a") == "http://127.0.0.1:2/a"
    assert hosts.rewrite("https://other.example/a") == "https://other.example/a"


@pytest.mark.parametrize(
    "location", ["ftp://user:s3cret@a.example/f?token=s3cret", "http://user:s3cret@/nohost?token=s3cret"]
)
def test_a_refused_redirect_names_where_it_pointed_but_never_its_credentials_or_query(location: str) -> None:
    with pytest.raises(TransportError) as caught:
        next_hop(302, location, method="GET", url="http://a.example/x", headers={}, body=None)
    assert "s3cret" not in str(caught.value)
    assert "a.example/f" in str(caught.value) or "/nohost" in str(caught.value)
