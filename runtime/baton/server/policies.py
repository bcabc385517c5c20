"""Policy gates: authentication, authorization and rate limits, checked before intake.

A Workflow names Policies (``spec.policies``); each is checked in order and all must pass.
What each check decided is kept as the run's policy outcomes (inspection and traces), never
the credential itself.

- ``apiKey``: the request's header must equal one of the values of the Secret ``secretRef``.
- ``bearer``: a JWT signed with HS256/384/512 by the key(s) in the Secret ``secretRef``; ``iss``
  must be ``issuer``, ``aud`` must meet ``audiences`` (when set), ``exp``/``nbf`` hold (30 s leeway).
  Keys fetched from a ``jwksUri`` are not supported yet: such a Policy is refused at load.
- ``authorization``: allowed when any rule matches: each named claim has one of the listed
  values, and the token grants every listed scope (``scope`` space-separated, or ``scp``).
- ``rateLimit``: a token bucket per key (``global``, per ``client`` address, or per ``header``
  value), ``requestsPerSecond`` refill and ``burst`` capacity; over it answers 429.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from baton.json_text import parse_json
from baton.manifests import Policy, RateLimit
from baton.server.responses import ERROR_TYPES, Problem

__all__ = ["Gate", "PolicyDenied", "PolicyOutcome", "build_gate", "gate_problems"]

_LEEWAY = 30.0
_ALGORITHMS: Mapping[str, Callable[..., Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
_MAX_BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    policy: str
    check: str  # authentication | authorization | rateLimit
    allowed: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "check": self.check, "allowed": self.allowed, "detail": self.detail}


class PolicyDenied(Exception):
    def __init__(
        self, problem: Problem, outcomes: Sequence[PolicyOutcome], headers: Mapping[str, str]
    ) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.outcomes = tuple(outcomes)
        self.headers = dict(headers)


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _secret_values(secrets: Mapping[str, Any], name: str) -> list[bytes]:
    found = secrets.get(name)
    values = found.values() if isinstance(found, Mapping) else [found] if found is not None else []
    return [str(v).encode() for v in values if v not in (None, "")]


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class _RateLimiter:
    def __init__(self, limit: RateLimit, clock: Callable[[], float]) -> None:
        self._rate = limit.requests_per_second
        self._burst = float(limit.burst)
        self._key = limit.key
        self._header = limit.header or "X-Client-ID"
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def key_of(self, headers: Mapping[str, str], remote: str | None) -> str:
        if self._key == "global":
            return ""
        if self._key == "header":
            return headers.get(self._header, "")
        return remote or ""

    def take(self, key: str) -> float | None:
        """None when allowed; else seconds until a token is back."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._burst, now)
            if len(self._buckets) > _MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.stamp) * self._rate)
            bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self._rate


class _PolicyCheck:
    def __init__(self, policy: Policy, secrets: Mapping[str, Any], clock: Callable[[], float]) -> None:
        self.name = policy.metadata.name
        spec = policy.spec
        self.authentication = spec.authentication
        self.authorization = spec.authorization
        self.clock = clock
        self.limiter = None if spec.rate_limit is None else _RateLimiter(spec.rate_limit, clock)
        self.keys: list[bytes] = []
        if spec.authentication is not None:
            ref = (
                spec.authentication.api_key.secret_ref
                if spec.authentication.api_key is not None
                else spec.authentication.bearer.secret_ref
                if spec.authentication.bearer is not None
                else None
            )
            if ref:
                self.keys = _secret_values(secrets, ref)

    def _deny(
        self, kind: str, status: int, title: str, detail: str, outcomes: list[PolicyOutcome]
    ) -> PolicyDenied:
        outcomes.append(PolicyOutcome(self.name, kind, False, detail))
        headers: dict[str, str] = {}
        if status == 401:
            auth = self.authentication
            headers["WWW-Authenticate"] = (
                f'Bearer realm="{self.name}"'
                if auth is not None and auth.bearer is not None
                else f'ApiKey realm="{self.name}"'
            )
        error_type = {401: "authentication", 403: "authorization"}.get(status)
        problem = Problem(
            status=status,
            title=title,
            type=ERROR_TYPES + error_type if error_type else "about:blank",
            detail=detail,
        )
        return PolicyDenied(problem, outcomes, headers)

    def check(self, headers: Mapping[str, str], remote: str | None, outcomes: list[PolicyOutcome]) -> None:
        claims: Mapping[str, Any] = {}
        if self.limiter is not None:
            wait = self.limiter.take(self.limiter.key_of(headers, remote))
            if wait is not None:
                denied = self._deny(
                    "rateLimit", 429, "Too Many Requests", "the rate limit is exceeded", outcomes
                )
                denied.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
                raise denied
            outcomes.append(PolicyOutcome(self.name, "rateLimit", True, "within the limit"))
        auth = self.authentication
        if auth is not None:
            if auth.api_key is not None:
                presented = headers.get(auth.api_key.header)
                if not presented:
                    raise self._deny(
                        "authentication",
                        401,
                        "Unauthorized",
                        f"the {auth.api_key.header} header is missing",
                        outcomes,
                    )
                if not any(hmac.compare_digest(presented.encode(), key) for key in self.keys):
                    raise self._deny(
                        "authentication", 401, "Unauthorized", "the API key is not accepted", outcomes
                    )
                outcomes.append(PolicyOutcome(self.name, "authentication", True, "API key accepted"))
            elif auth.bearer is not None:
                claims = self._bearer(headers, outcomes)
        if self.authorization is not None:
            if any(self._rule_matches(rule.claims, rule.scopes, claims) for rule in self.authorization.rules):
                outcomes.append(PolicyOutcome(self.name, "authorization", True, "a rule matched"))
            else:
                raise self._deny(
                    "authorization", 403, "Forbidden", "no authorization rule allows this request", outcomes
                )

    def _bearer(self, headers: Mapping[str, str], outcomes: list[PolicyOutcome]) -> Mapping[str, Any]:
        bearer = self.authentication.bearer if self.authentication is not None else None
        assert bearer is not None
        value = headers.get("Authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise self._deny("authentication", 401, "Unauthorized", "a bearer token is required", outcomes)
        try:
            head_b64, body_b64, signature_b64 = token.strip().split(".")
            # Read before the signature is checked (it names the algorithm): strictly, so a
            # token of nested brackets or a NaN "exp" is malformed, not a 500 or never expiring.
            header = parse_json(_b64(head_b64))
            claims = parse_json(_b64(body_b64))
            signature = _b64(signature_b64)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise self._deny(
                "authentication", 401, "Unauthorized", "the bearer token is malformed", outcomes
            ) from None
        digest = _ALGORITHMS.get(str(header.get("alg"))) if isinstance(header, dict) else None
        if digest is None or not isinstance(claims, dict):
            raise self._deny(
                "authentication", 401, "Unauthorized", "the token's algorithm is not accepted", outcomes
            )
        signed = f"{head_b64}.{body_b64}".encode()
        if not any(
            hmac.compare_digest(hmac.new(key, signed, digest).digest(), signature) for key in self.keys
        ):
            raise self._deny(
                "authentication", 401, "Unauthorized", "the token's signature is not valid", outcomes
            )
        now = self.clock()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if isinstance(exp, int | float) and now > exp + _LEEWAY:
            raise self._deny("authentication", 401, "Unauthorized", "the token has expired", outcomes)
        if isinstance(nbf, int | float) and now < nbf - _LEEWAY:
            raise self._deny("authentication", 401, "Unauthorized", "the token is not valid yet", outcomes)
        if claims.get("iss") != bearer.issuer:
            raise self._deny(
                "authentication", 401, "Unauthorized", "the token's issuer is not accepted", outcomes
            )
        if bearer.audiences:
            audience = claims.get("aud")
            granted = (
                {audience}
                if isinstance(audience, str)
                else {entry for entry in audience if isinstance(entry, str)}
                if isinstance(audience, list)
                else set()
            )
            if not granted & set(bearer.audiences):
                raise self._deny(
                    "authentication", 401, "Unauthorized", "the token's audience is not accepted", outcomes
                )
        outcomes.append(
            PolicyOutcome(self.name, "authentication", True, f"bearer token of {claims.get('sub', '?')}")
        )
        return claims

    @staticmethod
    def _rule_matches(
        required: Mapping[str, list[str]], scopes: Sequence[str], claims: Mapping[str, Any]
    ) -> bool:
        for claim, accepted in required.items():
            value = claims.get(claim)
            values = value if isinstance(value, list) else [value]
            if not any(str(v) in accepted for v in values if v is not None):
                return False
        if scopes:
            granted_raw = claims.get("scope", claims.get("scp", ""))
            granted = (
                set(granted_raw.split()) if isinstance(granted_raw, str) else set(map(str, granted_raw or []))
            )
            if not set(scopes) <= granted:
                return False
        return True


class Gate:
    """The policies of one definition, compiled once; ``check`` raises ``PolicyDenied``."""

    __slots__ = ("_checks",)

    def __init__(self, checks: Sequence[_PolicyCheck]) -> None:
        self._checks = tuple(checks)

    def check(self, headers: Mapping[str, str], remote: str | None) -> tuple[PolicyOutcome, ...]:
        outcomes: list[PolicyOutcome] = []
        for policy in self._checks:
            policy.check(headers, remote, outcomes)
        return tuple(outcomes)


def gate_problems(
    names: Sequence[str], policies: Mapping[str, Policy], secrets: Mapping[str, Any]
) -> list[str]:
    """Why the named policies cannot be enforced (empty when they can)."""
    problems = []
    for name in names:
        policy = policies.get(name)
        if policy is None:
            problems.append(f"policy {name!r} is not loaded (give its Policy manifest to baton serve)")
            continue
        auth = policy.spec.authentication
        if auth is None:
            continue
        if auth.bearer is not None and auth.bearer.secret_ref is None:
            problems.append(
                f"policy {name!r}: bearer keys from jwksUri are not supported yet; use secretRef (HS256)"
            )
        ref = (
            auth.api_key.secret_ref
            if auth.api_key is not None
            else auth.bearer.secret_ref
            if auth.bearer
            else None
        )
        if ref and not _secret_values(secrets, ref):
            problems.append(f"policy {name!r}: secret {ref!r} has no values (--secrets / --secrets-dir)")
    return problems


def build_gate(
    names: Sequence[str],
    policies: Mapping[str, Policy],
    secrets: Mapping[str, Any],
    *,
    clock: Callable[[], float] = time.time,
) -> Gate | None:
    if not names:
        return None
    return Gate([_PolicyCheck(policies[name], secrets, clock) for name in names])
