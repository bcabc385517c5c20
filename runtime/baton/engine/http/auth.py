"""Authentication for calls: basic, bearer, and OAuth2 / OpenID Connect tokens with caching.

Credentials are rendered per call (they may be expressions or secrets) and never recorded:
the ``Authorization`` header is not part of any task output or timeline record.

Tokens are cached per environment, keyed by everything that shapes the token (endpoint,
client, grant, scopes, audiences, user), and refreshed shortly before they expire. Concurrent
calls needing the same token share one request to the token endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin

from baton.engine.errors import AuthenticationError
from baton.engine.http.transport import HttpTransport, TransportError
from baton.json_text import JsonTextError, parse_json

if TYPE_CHECKING:
    from baton.engine.clock import Clock

__all__ = ["Credentials", "TokenCache", "basic_header", "fetch_token"]

_REFRESH_MARGIN = 30.0
_DEFAULT_TTL = 300.0


@dataclass(frozen=True, slots=True)
class Credentials:
    scheme: str
    parameter: str

    @property
    def header(self) -> str:
        return f"{self.scheme} {self.parameter}"

    def descriptor(self) -> dict[str, str]:
        """The ``$authorization`` argument of the spec."""
        return {"scheme": self.scheme, "parameter": self.parameter}


def basic_header(username: str, password: str) -> Credentials:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return Credentials("Basic", token)


@dataclass(slots=True)
class _Token:
    value: str
    token_type: str
    expires_at: float


class TokenCache:
    """OAuth2/OIDC access tokens and discovered OIDC metadata, per run environment."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._discovered: dict[str, str] = {}
        self.requests = 0

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def token(
        self, settings: Mapping[str, Any], *, oidc: bool, transport: HttpTransport
    ) -> Credentials:
        key = json.dumps({"oidc": oidc, **settings}, sort_keys=True, default=str)
        cached = self._tokens.get(key)
        if cached is not None and cached.expires_at > self._clock.monotonic():
            return Credentials(_scheme(cached.token_type), cached.value)
        async with self._lock(key):
            cached = self._tokens.get(key)
            if cached is not None and cached.expires_at > self._clock.monotonic():
                return Credentials(_scheme(cached.token_type), cached.value)
            endpoint = await self._token_endpoint(settings, oidc=oidc, transport=transport)
            token = await fetch_token(endpoint, settings, transport=transport, now=self._clock.monotonic())
            self.requests += 1
            self._tokens[key] = token
            return Credentials(_scheme(token.token_type), token.value)

    async def _token_endpoint(
        self, settings: Mapping[str, Any], *, oidc: bool, transport: HttpTransport
    ) -> str:
        authority = str(settings.get("authority") or "")
        if not authority:
            raise AuthenticationError("oauth2/oidc authentication needs an `authority`")
        if not oidc:
            path = str((settings.get("endpoints") or {}).get("token") or "/oauth2/token")
            return urljoin(authority.rstrip("/") + "/", path.lstrip("/"))
        discovery = authority
        if ".well-known/openid-configuration" not in discovery:
            discovery = authority.rstrip("/") + "/.well-known/openid-configuration"
        known = self._discovered.get(discovery)
        if known is not None:
            return known
        response = await _send(transport, "GET", discovery, {"Accept": "application/json"}, None)
        try:
            endpoint: str = str(parse_json(response.body)["token_endpoint"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthenticationError(
                f"OpenID configuration at {discovery} has no token_endpoint", title="Authentication failed"
            ) from exc
        self._discovered[discovery] = endpoint
        return endpoint


def _scheme(token_type: str) -> str:
    return "Bearer" if not token_type or token_type.lower() == "bearer" else token_type


async def _send(
    transport: HttpTransport, method: str, url: str, headers: Mapping[str, str], body: bytes | None
) -> Any:
    try:
        response = await transport.request(
            method, url, headers=headers, body=body, timeout=30.0, follow_redirects=True, max_body=1 << 20
        )
    except TransportError as exc:
        raise AuthenticationError(
            f"token endpoint {url} unreachable: {exc}", title="Authentication failed"
        ) from exc
    if not 200 <= response.status < 300:
        raise AuthenticationError(
            f"{method} {url} answered {response.status} {response.reason}", title="Authentication failed"
        )
    return response


async def fetch_token(
    endpoint: str, settings: Mapping[str, Any], *, transport: HttpTransport, now: float
) -> _Token:
    """Request a token per RFC 6749 (client credentials, password, and the other grants' fields)."""
    client = settings.get("client") or {}
    form: dict[str, str] = {"grant_type": str(settings.get("grant") or "client_credentials")}
    headers = {"Accept": "application/json"}
    method = client.get("authentication") or "client_secret_post"
    if method == "client_secret_basic":
        headers["Authorization"] = basic_header(
            str(client.get("id", "")), str(client.get("secret", ""))
        ).header
    elif method != "none":
        if client.get("id") is not None:
            form["client_id"] = str(client["id"])
        if client.get("secret") is not None:
            form["client_secret"] = str(client["secret"])
        if client.get("assertion") is not None:
            form["client_assertion"] = str(client["assertion"])
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    if settings.get("scopes"):
        form["scope"] = " ".join(map(str, settings["scopes"]))
    if settings.get("audiences"):
        form["audience"] = " ".join(map(str, settings["audiences"]))
    for field in ("username", "password"):
        if settings.get(field) is not None:
            form[field] = str(settings[field])
    for role in ("subject", "actor"):
        token = settings.get(role)
        if isinstance(token, dict):
            form[f"{role}_token"] = str(token.get("token", ""))
            form[f"{role}_token_type"] = str(token.get("type", ""))
    encoding = (settings.get("request") or {}).get("encoding") or "application/x-www-form-urlencoded"
    body = json.dumps(form).encode() if encoding == "application/json" else urlencode(form).encode()
    headers["Content-Type"] = encoding
    response = await _send(transport, "POST", endpoint, headers, body)
    try:
        answer = parse_json(response.body)
    except JsonTextError as exc:
        raise AuthenticationError(
            f"token endpoint {endpoint} answered no usable JSON: {exc}", title="Authentication failed"
        ) from None
    try:
        value = str(answer["access_token"])
    except (KeyError, TypeError) as exc:
        raise AuthenticationError(
            f"token endpoint {endpoint} answered without an access_token", title="Authentication failed"
        ) from exc
    expires_in = answer.get("expires_in")
    ttl = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else _DEFAULT_TTL
    return _Token(value, str(answer.get("token_type") or "Bearer"), now + max(1.0, ttl - _REFRESH_MARGIN))
