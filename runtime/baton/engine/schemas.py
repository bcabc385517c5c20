"""JSON Schema checks of inputs, outputs and exported contexts, built once at compile time."""

from __future__ import annotations

from typing import Any

import jsonschema
import jsonschema.exceptions

from baton.engine.errors import ValidationFault

__all__ = ["SchemaCheck", "SchemaDefinitionError"]


class SchemaDefinitionError(ValueError):
    pass


class SchemaCheck:
    __slots__ = ("_validator",)

    def __init__(self, schema: Any) -> None:
        if not isinstance(schema, dict):
            raise SchemaDefinitionError("schema must have `format: json` and an inline `document` object")
        if schema.get("format", "json") != "json":
            raise SchemaDefinitionError(
                f"schema format {schema.get('format')!r} is not supported (only json)"
            )
        if "document" not in schema:
            raise SchemaDefinitionError("external schema resources are not supported; inline the `document`")
        document = schema["document"]
        cls = jsonschema.validators.validator_for(document, default=jsonschema.Draft202012Validator)
        try:
            cls.check_schema(document)
        except jsonschema.exceptions.SchemaError as exc:
            raise SchemaDefinitionError(f"invalid JSON Schema: {exc.message}") from exc
        self._validator = cls(document)

    def check(self, value: Any, *, what: str, instance: str | None) -> None:
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(value))
        if error is None:
            return
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise ValidationFault(
            f"{what} does not match its schema at ${where}: {error.message}",
            title="Schema validation failed",
            instance=instance,
        )
