"""``call: http``: one request through the environment's transport, answered per the spec.

Everything about the request was compiled beforehand (URI template split into parts, header,
query and body templates, authentication); a call renders, sends, and decodes. Non-2xx
answers (non-2xx/3xx with ``redirect: true``) are communication errors carrying the status.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import functools
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from baton.engine._state import RunState, Scope
from baton.engine.errors import (
    AuthorizationError,
    CommunicationError,
    ConfigurationError,
    ExpressionFault,
    LimitExceeded,
    TimeoutFault,
)
from baton.engine.http.auth import Credentials, basic_header
from baton.engine.http.transport import TransportError
from baton.engine.observers import CallInfo, CallOutcome, Hooks, notify_call_end, notify_call_start
from baton.engine.tasks.base import TaskNode
from baton.expressions import Expression, ValueTemplate
from baton.json_text import JsonTextError, encode_json, parse_json

__all__ = [
    "DEADLINE_HEADER",
    "AuthPolicy",
    "CallHttpNode",
    "HttpExchangeNode",
    "UriTemplate",
    "decode_body",
    "exchange",
]

DEADLINE_HEADER = "X-Baton-Deadline-Ms"

_VARIABLE = re.compile(r"\{([^{}]+)\}")
#: What ``quote(text, safe="")`` leaves as it is (RFC 3986 unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
#: What may not stand in a request line or header as it is sent.
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
#: What may not stand in a header value (a space may).
_LINE_BREAK = re.compile(r"[\r\n\x00]")


class UriTemplate:
    """RFC 6570 simple string expansion (``{name}``), or one ``${ }`` expression, per the spec."""

    __slots__ = ("constant", "expression", "parts", "text")

    def __init__(self, text: str, *, expression: Expression | None) -> None:
        self.text = text
        self.expression = expression
        parts: list[tuple[bool, str]] = []
        if expression is None:
            pos = 0
            for match in _VARIABLE.finditer(text):
                parts.append((False, text[pos : match.start()]))
                parts.append((True, match.group(1).strip()))
                pos = match.end()
            parts.append((False, text[pos:]))
        self.parts = tuple((is_var, value) for is_var, value in parts if is_var or value)
        #: The URI itself when nothing in it varies (most endpoints).
        self.constant = text if expression is None and not any(is_var for is_var, _ in self.parts) else None

    def render(self, data: Any, scope: Scope) -> str:
        if self.constant is not None:
            return self.constant
        if self.expression is not None:
            value = self.expression.evaluate(data, scope)
            if not isinstance(value, str):
                raise ExpressionFault(f"endpoint expression gave {type(value).__name__}, not a URI string")
            return value
        out: list[str] = []
        for is_var, value in self.parts:
            if not is_var:
                out.append(value)
                continue
            found = data.get(value) if isinstance(data, dict) else None
            if found is None:
                continue
            if isinstance(found, bool):
                out.append("true" if found else "false")
            elif isinstance(found, int):
                out.append(str(found))  # digits and "-" are unreserved: quoting would not change it
            elif isinstance(found, str | float):
                text = str(found)
                # Most values (ids, names) are already unreserved; quote() costs ~3x a regex check.
                out.append(text if _UNRESERVED.fullmatch(text) else quote(text, safe=""))
            else:
                raise ExpressionFault(
                    f"URI template variable {{{value}}} is {type(found).__name__}; "
                    "only strings, numbers, booleans and null can be substituted"
                )
        return "".join(out)


class AuthPolicy:
    """A compiled ``authentication``: scheme plus its settings template (or a secret's name)."""

    __slots__ = ("scheme", "secret", "settings")

    def __init__(self, *, scheme: str, settings: ValueTemplate | None, secret: str | None) -> None:
        self.scheme = scheme
        self.settings = settings
        self.secret = secret

    async def credentials(self, state: RunState, data: Any, scope: Scope) -> Credentials:
        if self.secret is not None:
            if self.secret not in state.secrets:
                raise AuthorizationError(f"secret {self.secret!r} is not available to this workflow")
            settings = state.secrets[self.secret]
            if not isinstance(settings, dict):
                raise ConfigurationError(
                    f"secret {self.secret!r} must hold the {self.scheme} settings object"
                )
        else:
            assert self.settings is not None
            settings = self.settings.render(data, scope)
        if not isinstance(settings, dict):
            raise ConfigurationError(f"{self.scheme} authentication settings must be an object")
        try:
            return await self._credentials(state, settings)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"{self.scheme} authentication settings are malformed: {exc}") from exc

    async def _credentials(self, state: RunState, settings: dict[str, Any]) -> Credentials:
        if self.scheme == "basic":
            return basic_header(str(settings.get("username", "")), str(settings.get("password", "")))
        if self.scheme == "bearer":
            return Credentials("Bearer", str(settings.get("token", "")))
        return await state.env.tokens.token(
            settings, oidc=self.scheme == "oidc", transport=state.env.transport
        )


class HttpExchangeNode(TaskNode):
    """A task whose work ends in one HTTP exchange (``call: http``, ``call: openapi``): what
    :func:`exchange` reads from it is declared once, here."""

    kind = "call"
    __slots__ = ("auth", "output_format", "redirect")

    def __init__(self, *, output_format: str, redirect: bool, auth: AuthPolicy | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_format = output_format
        self.redirect = redirect
        self.auth = auth


class CallHttpNode(HttpExchangeNode):
    __slots__ = ("body", "headers", "method", "query", "uri")

    def __init__(
        self,
        *,
        method: ValueTemplate,
        uri: UriTemplate,
        headers: ValueTemplate | None,
        query: ValueTemplate | None,
        body: ValueTemplate | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.method = method
        self.uri = uri
        self.headers = headers
        self.query = query
        self.body = body

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        method = str(self.method.render(input, scope)).upper()
        url = self.uri.render(input, scope)
        if self.query is not None:
            url = _with_query(url, self.query.render(input, scope))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"endpoint `{_visible(url)}` is not an absolute http(s) URI")
        declared: dict[str, str] = {}
        if self.headers is not None:
            rendered = self.headers.render(input, scope)
            if not isinstance(rendered, dict):
                raise ExpressionFault("call headers must be an object of names to values")
            declared = {str(k): _header_value(v) for k, v in rendered.items()}
        body = None if self.body is None else self.body.render(input, scope)
        return await exchange(self, state, scope, method=method, url=url, declared=declared, body=body)


async def exchange(
    node: HttpExchangeNode,
    state: RunState,
    scope: Scope,
    *,
    method: str,
    url: str,
    declared: dict[str, str],
    body: Any,
) -> Any:
    """Send one request for ``node`` and answer per the spec (shared by http and openapi calls)."""
    if _CONTROL.search(url):
        # An endpoint built by an expression goes on the request line as it is: a CR/LF in it
        # would inject headers into the upstream's request, a space would split the line.
        raise ConfigurationError(
            f"endpoint `{_visible(url)}` holds a space or control character; percent-encode it",
            title="Request not sendable",
        )
    auth, redirect, output_format = node.auth, node.redirect, node.output_format
    headers = {**state.call_headers, **declared}
    if auth is not None:
        credentials = await auth.credentials(state, scope.input, scope)
        headers["Authorization"] = credentials.header
        scope.authorization = credentials.descriptor()
    payload = _encode_body(body, headers)
    limits = state.limits
    if payload is not None and len(payload) > limits.max_payload_bytes:
        limits.check_payload(payload, what="request body", instance=node.path)
    timeout = node.timeout
    remaining = state.remaining()
    if remaining is not None:
        if remaining <= 0:
            raise TimeoutFault("the run's deadline passed before the call", title="Deadline exceeded")
        timeout = remaining if timeout is None else min(timeout, remaining)
    if timeout is not None:
        headers[DEADLINE_HEADER] = str(max(1, int(timeout * 1000)))
    hooks = state.hooks
    handles: list[object] | None = None
    if hooks.call_start:
        info = CallInfo(
            run_id=state.run_id, task=node.path, method=method, url=url, headers=headers, timeout=timeout
        )
        handles = notify_call_start(hooks, info)
    # Only observers read a call's duration.
    started = state.clock.monotonic() if hooks.call_end else 0.0
    try:
        response = await state.env.transport.request(
            method,
            url,
            headers=headers,
            body=payload,
            timeout=timeout,
            follow_redirects=redirect,
            max_body=limits.max_payload_bytes,
        )
    except TransportError as exc:
        if hooks.call_end:
            elapsed = state.clock.monotonic() - started
            _call_end(hooks, handles, status=None, error=str(exc), duration=elapsed, timed_out=exc.timed_out)
        if exc.timed_out:
            raise TimeoutFault(f"{method} {url}: {exc}", title="Call timed out") from exc
        if exc.unsendable:
            culprits = [
                name for name, value in headers.items() if _CONTROL.search(name) or _LINE_BREAK.search(value)
            ]
            named = f" (header {', '.join(map(repr, culprits))})" if culprits else ""
            raise ConfigurationError(f"{method} {url}: {exc}{named}", title="Request not sendable") from exc
        if exc.too_large:
            raise LimitExceeded(
                f"{method} {url}: {exc} (Limits.max_payload_bytes)",
                status=502,
                title="Response too large",
            ) from exc
        raise CommunicationError(f"{method} {url}: {exc}", status=503, title="Service unreachable") from exc
    except asyncio.CancelledError:
        # Cut by a timeout, a deadline or a cancelled run: observers still close their span.
        if hooks.call_end:
            _call_end(
                hooks,
                handles,
                status=None,
                error="cancelled",
                duration=state.clock.monotonic() - started,
            )
        raise
    if hooks.call_end:
        _call_end(
            hooks, handles, status=response.status, error=None, duration=state.clock.monotonic() - started
        )
    ceiling = 400 if redirect else 300
    if not 200 <= response.status < ceiling:
        raise CommunicationError(
            f"{method} {url} answered {response.status} {response.reason}".rstrip(),
            status=response.status,
            title=response.reason or "Unexpected HTTP status",
        )
    if output_format == "raw":
        return base64.b64encode(response.body).decode("ascii") if response.body else None
    try:
        content = decode_body(response.body, response.headers)
    except JsonTextError as exc:
        raise CommunicationError(
            f"{method} {url} answered JSON that a run cannot carry: {exc}",
            status=502,
            title="Malformed upstream response",
        ) from None
    if output_format == "response":
        return {
            "request": {"method": method.lower(), "uri": url, "headers": declared},
            "statusCode": response.status,
            "headers": response.headers,
            "content": content,
        }
    return content


def _call_end(
    hooks: Hooks,
    handles: list[object] | None,
    *,
    status: int | None,
    error: str | None,
    duration: float,
    timed_out: bool = False,
) -> None:
    notify_call_end(
        hooks, handles, CallOutcome(status=status, error=error, duration=duration, timed_out=timed_out)
    )


def _visible(text: str) -> str:
    # Not repr(): it would also escape quotes and backslashes, and a secret holding one would
    # then no longer match the run's redaction by value. Only what cannot be shown is escaped.
    return _UNPRINTABLE.sub(lambda match: repr(match.group())[1:-1], text)


def _header_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _with_query(url: str, query: Any) -> str:
    if not query:
        return url
    if not isinstance(query, dict):
        raise ExpressionFault("call query must be an object of names to values")
    pairs = [(str(k), _header_value(v)) for k, v in query.items() if v is not None]
    parts = urlsplit(url)
    extra = urlencode(pairs)
    joined = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))


def _content_type(headers: Mapping[str, str]) -> str:
    return _type_and_charset(headers)[0]


def _type_and_charset(headers: Mapping[str, str]) -> tuple[str, str | None]:
    # Most answers spell it the usual way; only the others need the case-blind scan.
    value = headers.get("Content-Type")
    if value is not None:
        return _media_type(value)
    for name, value in headers.items():
        if name.lower() == "content-type":
            return _media_type(value)
    return "", None


@functools.lru_cache(maxsize=256)
def _media_type(value: str) -> tuple[str, str | None]:
    """The media type and a charset other than UTF-8 (``None`` for UTF-8, absent or unknown).

    An upstream sends the same few Content-Type values on every answer; each is parsed once.
    """
    media, *params = value.split(";")
    media = media.strip().lower()
    for param in params:
        name, _, given = param.partition("=")
        if name.strip().lower() == "charset":
            try:
                codec = codecs.lookup(given.strip().strip('"')).name
            except LookupError:
                return media, None
            return media, None if codec == "utf-8" else codec
    return media, None


def _encode_body(body: Any, headers: dict[str, str]) -> bytes | None:
    if body is None:
        return None
    declared, charset = _type_and_charset(headers)
    if isinstance(body, bytes):
        return body
    if isinstance(body, str) and not declared.endswith("json"):
        if not declared:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        try:
            # In the charset the call declares: UTF-8 bytes labelled ISO-8859-1 read as mojibake.
            return body.encode(charset or "utf-8")
        except UnicodeEncodeError as exc:
            raise ExpressionFault(
                f"call body cannot be written in {charset or 'utf-8'}: "
                f"{body[exc.start]!r} at position {exc.start} ({exc.reason})"
            ) from None
    if declared == "application/x-www-form-urlencoded" and isinstance(body, dict):
        return urlencode([(str(k), _header_value(v)) for k, v in body.items()]).encode()
    if not declared:
        headers["Content-Type"] = "application/json"
    try:
        return encode_json(body)
    except JsonTextError as exc:
        raise ExpressionFault(f"call body cannot be written as JSON: {exc}") from None


def _decoded(body: bytes, charset: str) -> str:
    try:
        return body.decode(charset)
    except UnicodeDecodeError as exc:
        raise JsonTextError(f"the text is not {charset} (byte {exc.start})", malformed=True) from None


def decode_body(body: bytes, headers: Mapping[str, str]) -> Any:
    """The content of an answer; ``JsonTextError`` for JSON that a run cannot carry.

    A body labelled JSON that is not JSON at all is kept as text (a mislabelled error page
    still reaches the workflow); JSON holding NaN, an unpaired surrogate or nesting past what
    the interpreter can read is refused, since nothing after this point could write it out again.
    """
    if not body:
        return None
    kind, charset = _type_and_charset(headers)
    if kind == "application/json" or kind.endswith("+json"):
        try:
            # JSON is UTF-8 (RFC 8259), but an upstream that declares another charset means it.
            # Nesting is left to the interpreter's bound (~900): the engine carries deep data
            # (jq builds it too), and measuring depth would double the cost of a large answer.
            return parse_json(body if charset is None else _decoded(body, charset), max_depth=None)
        except JsonTextError as exc:
            if not exc.malformed:
                raise
            return body.decode(charset or "utf-8", "replace")
    if (
        kind.startswith("text/")
        or kind in ("application/xml", "application/x-www-form-urlencoded")
        or not kind
    ):
        try:
            # A declared charset is honoured: ISO-8859-1 text (legacy and SOAP services) was
            # not UTF-8 and reached the flow as base64.
            text = body.decode(charset or "utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(body).decode("ascii")
        if not kind:
            try:
                return parse_json(text, max_depth=None)
            except JsonTextError:
                return text
        return text
    return base64.b64encode(body).decode("ascii")
