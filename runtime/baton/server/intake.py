"""Request checks before any upstream call: content type, body size, the input schema.

Every violation is collected, not only the first, so a client fixes its request in one round.
The input schema validator is compiled once per loaded version.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.validators
from aiohttp import web
from multidict import MultiMapping

from baton.json_text import JsonTextError, parse_json
from baton.manifests import Endpoint
from baton.server.responses import ERROR_TYPES, Problem, Violation

__all__ = ["Intake", "IntakeError", "schema_problems"]

_NO_BODY_METHODS = frozenset({"GET", "DELETE"})


class IntakeError(Exception):
    """A request refused before the run; ``problem`` is the 400 answer listing every violation."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(v.message for v in self.violations))

    @property
    def problem(self) -> Problem:
        return Problem(
            status=400,
            title="Invalid request",
            type=ERROR_TYPES + "validation",
            detail=f"The request has {len(self.violations)} problem(s); see errors.",
            errors=self.violations,
        )


def _input_schema(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    declared = document.get("input")
    if not isinstance(declared, Mapping):
        return None
    schema = declared.get("schema")
    if not isinstance(schema, Mapping) or schema.get("format", "json") != "json":
        return None
    inline = schema.get("document")
    return inline if isinstance(inline, Mapping) else None


def schema_problems(document: Mapping[str, Any]) -> list[str]:
    """Why the workflow's inline input schema is not a valid JSON Schema (empty when it is)."""
    schema = _input_schema(document)
    if schema is None:
        return []
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return [f"input.schema.document is not a valid JSON Schema: {exc.message}"]
    return []


def _pointer(path: Sequence[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _query_input(query: MultiMapping[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in query:
        values = query.getall(key)
        out[key] = values[0] if len(values) == 1 else list(values)
    return out


def _form_input(body: bytes) -> dict[str, Any]:
    pairs = urllib.parse.parse_qs(body.decode("latin-1"), keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in pairs.items()}


class Intake:
    """The checks of one endpoint version, compiled once."""

    __slots__ = ("_content_types", "_max_body", "_method", "_validator")

    def __init__(self, endpoint: Endpoint, document: Mapping[str, Any]) -> None:
        self._method = endpoint.method
        self._max_body = endpoint.max_body_bytes
        self._content_types = frozenset(t.split(";")[0].strip().lower() for t in endpoint.content_types)
        schema = _input_schema(document)
        self._validator: Any = None
        if schema is not None:
            cls = jsonschema.validators.validator_for(schema)
            self._validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    async def read(self, request: web.BaseRequest) -> tuple[Any, bytes]:
        """The run input of a request and the bytes it came from (for idempotency fingerprints).

        Raises ``IntakeError`` with every reason the request is refused.
        """
        if self._method in _NO_BODY_METHODS:
            data: Any = _query_input(request.query)
            raw = request.query_string.encode()
        else:
            data, raw = await self._read_body(request)
        if self._validator is not None:
            violations = [
                Violation(error.message, _pointer(error.absolute_path))
                for error in sorted(self._validator.iter_errors(data), key=lambda e: list(e.absolute_path))
            ]
            if violations:
                raise IntakeError(violations)
        return data, raw

    async def _read_body(self, request: web.BaseRequest) -> tuple[Any, bytes]:
        length = request.content_length
        media_type = request.content_type.lower() if request.body_exists else ""
        violations: list[Violation] = []
        if request.body_exists and media_type not in self._content_types:
            violations.append(
                Violation(
                    f"content type {media_type or '(none)'!r} is not accepted; "
                    f"send one of: {', '.join(sorted(self._content_types))}"
                )
            )
        if length is not None and length > self._max_body:
            violations.append(Violation(f"the body has {length} bytes; the limit is {self._max_body}"))
        if violations:
            raise IntakeError(violations)
        body = await self._read_limited(request)
        return self._decode(body, media_type, request.charset), body

    def _decode(self, body: bytes, media_type: str, charset: str | None) -> Any:
        if not body:
            return {}
        if _is_json(media_type):
            try:
                return parse_json(body)
            except JsonTextError as exc:
                raise IntakeError(
                    [Violation(f"the body is not valid JSON: {exc.reason}", exc.pointer)]
                ) from exc
        if media_type == "application/x-www-form-urlencoded":
            return _form_input(body)
        try:
            return body.decode(charset or "utf-8")
        except (LookupError, UnicodeDecodeError) as exc:
            raise IntakeError([Violation("the body is not text in its declared charset")]) from exc

    async def _read_limited(self, request: web.BaseRequest) -> bytes:
        length = request.content_length
        if length == 0:
            # aiohttp's reader for an absent body refuses even readexactly(0).
            return b""
        if length is not None:
            try:
                return await request.content.readexactly(length)
            except asyncio.IncompleteReadError as exc:
                raise IntakeError([Violation("the body ended before its Content-Length")]) from exc
        # Chunked: stop reading as soon as the limit is passed.
        chunks: list[bytes] = []
        size = 0
        while chunk := await request.content.read(65_536):
            size += len(chunk)
            if size > self._max_body:
                raise IntakeError([Violation(f"the body exceeds the limit of {self._max_body} bytes")])
            chunks.append(chunk)
        return b"".join(chunks)
