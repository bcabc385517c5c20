"""Authentication policies: basic, bearer, digest, OAuth2 and OpenID Connect, inline or by secret."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

from baton.dsl.models._base import Model, OpenModel, UriTemplate, kind_of

__all__ = [
    "AuthenticationPolicy",
    "AuthenticationPolicyReference",
    "BasicAuthenticationPolicy",
    "BasicAuthenticationProperties",
    "BearerAuthenticationPolicy",
    "BearerAuthenticationProperties",
    "DigestAuthenticationPolicy",
    "DigestAuthenticationProperties",
    "OAuth2AuthenticationPolicy",
    "OAuth2AuthenticationProperties",
    "OAuth2Client",
    "OAuth2ConnectProperties",
    "OAuth2Endpoints",
    "OAuth2Token",
    "OAuth2TokenRequest",
    "OidcAuthenticationPolicy",
    "ReferenceableAuthenticationPolicy",
    "SecretBasedAuthentication",
]


class SecretBasedAuthentication(Model):
    """Credentials read from the named secret instead of written inline."""

    use: str = Field(min_length=1)


class BasicAuthenticationProperties(Model):
    username: str
    password: str


class BearerAuthenticationProperties(Model):
    token: str


class DigestAuthenticationProperties(Model):
    username: str
    password: str


def _inline_or_secret(value: Any) -> str | None:
    if isinstance(value, SecretBasedAuthentication) or (isinstance(value, dict) and "use" in value):
        return "<secret>"
    if isinstance(value, dict | BaseModel):
        return "<inline>"
    return None


_CREDENTIALS = Discriminator(
    _inline_or_secret,
    custom_error_type="authentication",
    custom_error_message="must be a mapping: inline credentials or {use: <secret name>}",
)

BasicConfiguration = Annotated[
    Annotated[BasicAuthenticationProperties, Tag("<inline>")]
    | Annotated[SecretBasedAuthentication, Tag("<secret>")],
    _CREDENTIALS,
]
BearerConfiguration = Annotated[
    Annotated[BearerAuthenticationProperties, Tag("<inline>")]
    | Annotated[SecretBasedAuthentication, Tag("<secret>")],
    _CREDENTIALS,
]
DigestConfiguration = Annotated[
    Annotated[DigestAuthenticationProperties, Tag("<inline>")]
    | Annotated[SecretBasedAuthentication, Tag("<secret>")],
    _CREDENTIALS,
]


class OAuth2Client(Model):
    id: str | None = None
    secret: str | None = None
    assertion: str | None = None
    authentication: (
        Literal["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"]
        | None
    ) = None


class OAuth2TokenRequest(OpenModel):
    encoding: Literal["application/x-www-form-urlencoded", "application/json"] | None = None


class OAuth2Token(Model):
    token: str
    type: str


OAuth2Grant = Literal[
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:token-exchange",
]


class OAuth2AuthenticationProperties(Model):
    """What OAuth2 and OIDC share; OIDC discovers its endpoints from the authority."""

    authority: UriTemplate | None = None
    grant: OAuth2Grant | None = None
    client: OAuth2Client | None = None
    request: OAuth2TokenRequest | None = None
    issuers: list[str] | None = None
    scopes: list[str] | None = None
    audiences: list[str] | None = None
    username: str | None = None
    password: str | None = None
    subject: OAuth2Token | None = None
    actor: OAuth2Token | None = None


class OAuth2Endpoints(OpenModel):
    """Paths relative to the authority; the defaults are the spec's."""

    token: str = "/oauth2/token"
    revocation: str = "/oauth2/revoke"
    introspection: str = "/oauth2/introspect"


class OAuth2ConnectProperties(OAuth2AuthenticationProperties):
    endpoints: OAuth2Endpoints | None = None


OAuth2Configuration = Annotated[
    Annotated[OAuth2ConnectProperties, Tag("<inline>")]
    | Annotated[SecretBasedAuthentication, Tag("<secret>")],
    _CREDENTIALS,
]
OidcConfiguration = Annotated[
    Annotated[OAuth2AuthenticationProperties, Tag("<inline>")]
    | Annotated[SecretBasedAuthentication, Tag("<secret>")],
    _CREDENTIALS,
]


class BasicAuthenticationPolicy(Model):
    basic: BasicConfiguration


class BearerAuthenticationPolicy(Model):
    bearer: BearerConfiguration


class DigestAuthenticationPolicy(Model):
    digest: DigestConfiguration


class OAuth2AuthenticationPolicy(Model):
    oauth2: OAuth2Configuration


class OidcAuthenticationPolicy(Model):
    oidc: OidcConfiguration


class AuthenticationPolicyReference(Model):
    """``{use: name}``: a policy declared in ``use.authentications``."""

    use: str = Field(min_length=1)


_SCHEMES = ("basic", "bearer", "digest", "oauth2", "oidc")
_POLICIES: dict[str, type[BaseModel]] = {
    "<basic>": BasicAuthenticationPolicy,
    "<bearer>": BearerAuthenticationPolicy,
    "<digest>": DigestAuthenticationPolicy,
    "<oauth2>": OAuth2AuthenticationPolicy,
    "<oidc>": OidcAuthenticationPolicy,
}
_SCHEME_MESSAGE = "must be a mapping with one of: basic, bearer, digest, oauth2, oidc"


def _policy_kind(value: Any) -> str | None:
    return kind_of(value, _SCHEMES, _POLICIES)


def _referenceable_kind(value: Any) -> str | None:
    return kind_of(value, ("use", *_SCHEMES), {"<use>": AuthenticationPolicyReference, **_POLICIES})


AuthenticationPolicy = Annotated[
    Annotated[BasicAuthenticationPolicy, Tag("<basic>")]
    | Annotated[BearerAuthenticationPolicy, Tag("<bearer>")]
    | Annotated[DigestAuthenticationPolicy, Tag("<digest>")]
    | Annotated[OAuth2AuthenticationPolicy, Tag("<oauth2>")]
    | Annotated[OidcAuthenticationPolicy, Tag("<oidc>")],
    Discriminator(_policy_kind, custom_error_type="authentication", custom_error_message=_SCHEME_MESSAGE),
]

ReferenceableAuthenticationPolicy = Annotated[
    Annotated[AuthenticationPolicyReference, Tag("<use>")]
    | Annotated[BasicAuthenticationPolicy, Tag("<basic>")]
    | Annotated[BearerAuthenticationPolicy, Tag("<bearer>")]
    | Annotated[DigestAuthenticationPolicy, Tag("<digest>")]
    | Annotated[OAuth2AuthenticationPolicy, Tag("<oauth2>")]
    | Annotated[OidcAuthenticationPolicy, Tag("<oidc>")],
    Discriminator(
        _referenceable_kind,
        custom_error_type="authentication",
        custom_error_message="must be {use: <name in use.authentications>} or a mapping with one of: "
        + ", ".join(_SCHEMES),
    ),
]
