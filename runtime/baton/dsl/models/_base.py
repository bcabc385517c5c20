"""What every DSL model shares, and the constrained strings the schema defines by pattern.

Models are strict: the official schema never coerces (``"1"`` is not an integer, ``1`` is
not a string), so neither do we. Keys are validated by their DSL spelling only (no
population by Python name), otherwise ``with_`` would be accepted where the schema says
``with``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

__all__ = [
    "DateTimeOrExpression",
    "DnsName",
    "ExpressionOrUri",
    "JsonPointerOrExpression",
    "Model",
    "OpenModel",
    "RuntimeExpression",
    "SemVer",
    "UriTemplate",
    "checked",
    "is_runtime_expression",
    "is_uri_template",
    "kind_of",
]

_SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_DNS_NAME = r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
#: The schema's ``runtimeExpression``: the whole string is one ``${ ... }``.
RUNTIME_EXPRESSION_PATTERN = re.compile(r"^\s*\$\{.+\}\s*$")
#: The schema's ``uriTemplate``: anything with a scheme; the template syntax itself is not asserted.
URI_TEMPLATE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*://.*")


class Model(BaseModel):
    """A closed object of the DSL (``unevaluatedProperties: false``): unknown keys are typos."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    #: Fields whose value may be ``null``: only those typed ``Any`` (payloads, schema documents).
    _nullable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._nullable = frozenset(name for name, field in cls.model_fields.items() if field.annotation is Any)

    @field_validator("*", mode="before")
    @classmethod
    def _absent_is_not_null(cls, value: Any, info: ValidationInfo) -> Any:
        # The schema lets an optional key be left out, never be ``null`` (YAML's empty value).
        if value is None and info.field_name not in cls._nullable:
            raise PydanticCustomError("null", "must not be empty (null)")
        return value


class OpenModel(Model):
    """An object the schema leaves open (``additionalProperties: true``): extra keys are data."""

    model_config = ConfigDict(extra="allow")


def is_runtime_expression(value: object) -> bool:
    return isinstance(value, str) and RUNTIME_EXPRESSION_PATTERN.search(value) is not None


def is_uri_template(value: object) -> bool:
    return isinstance(value, str) and URI_TEMPLATE_PATTERN.search(value) is not None


def checked(test: Callable[[str], bool], code: str, message: str) -> AfterValidator:
    def check(value: str) -> str:
        if not test(value):
            raise PydanticCustomError(code, message)
        return value

    return AfterValidator(check)


def _regex(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda value: compiled.search(value) is not None


SemVer = Annotated[
    str, checked(_regex(_SEMVER), "semver", "must be a semantic version such as 1.0.0 (quote it in YAML)")
]
DnsName = Annotated[
    str,
    checked(
        _regex(_DNS_NAME),
        "dns_name",
        "must be 1-63 letters, digits or '-', starting and ending with a letter or digit",
    ),
]
RuntimeExpression = Annotated[
    str,
    checked(is_runtime_expression, "runtime_expression", "must be a runtime expression such as ${ .a }"),
]
UriTemplate = Annotated[
    str,
    checked(
        is_uri_template, "uri_template", "must be an absolute URI or URI template such as https://host/{id}"
    ),
]
ExpressionOrUri = Annotated[
    str,
    checked(
        lambda v: is_runtime_expression(v) or is_uri_template(v),
        "uri_or_expression",
        "must be an absolute URI or URI template such as https://host/{id}, or a runtime expression",
    ),
]


_JSON_POINTER = re.compile(r"^(?:/(?:[^~/]|~[01])*)*$")
_DATE_TIME = re.compile(
    r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)"
    r"(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$",
    re.IGNORECASE,
)

# The schema offers a literal (format json-pointer / date-time) or an expression through
# ``oneOf``; an expression passes an unasserted format too, so the official schema rejects
# expressions there unless formats are asserted. We follow the intent: formats asserted.
JsonPointerOrExpression = Annotated[
    str,
    checked(
        lambda v: _JSON_POINTER.match(v) is not None or is_runtime_expression(v),
        "json_pointer",
        "must be a JSON pointer such as /do/0/fetch, or a runtime expression",
    ),
]
DateTimeOrExpression = Annotated[
    str,
    checked(
        lambda v: _DATE_TIME.match(v) is not None or is_runtime_expression(v),
        "date_time",
        "must be an RFC 3339 date-time such as 2025-01-31T12:00:00Z, or a runtime expression",
    ),
]


def kind_of(value: Any, keys: tuple[str, ...], models: dict[str, type[BaseModel]]) -> str | None:
    """The tag of a keyed union: ``<key>`` for the first of ``keys`` present in a mapping.

    Tags are bracketed so that they can never be mistaken for a document key in an error's
    location. Used as a pydantic ``Discriminator`` so that an error is reported against the one branch
    the author meant, not as a wall of every branch's complaints.
    """
    if isinstance(value, dict):
        for key in keys:
            if key in value:
                return f"<{key}>"
        return None
    for tag, model in models.items():
        if isinstance(value, model):
            return tag
    return None
