"""Phase 2: a typed ``Document`` from a source, and every problem of a document at once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from baton.dsl import _paths
from baton.dsl._schema_errors import problems_from
from baton.dsl._semantics import semantic_problems
from baton.dsl.loading import DEFAULT_LIMITS, LoadLimits, read_document
from baton.dsl.models import Document
from baton.dsl.problems import DocumentError, Problem

__all__ = ["load_document", "problems_from_validation_error", "schema_problems", "validate"]


def problems_from_validation_error(
    exc: ValidationError, raw: Any, *, file: str | None = None
) -> list[Problem]:
    """A pydantic error on any model validated from ``raw``, told as ``validate`` tells problems.

    For the layers above that validate their own models from plain data (manifests), so that
    every message a user reads has the same paths and wording.
    """
    return list(problems_from(exc, raw, file=file))


def schema_problems(raw: Mapping[str, Any], *, file: str | None = None) -> list[Problem]:
    """What the DSL schema says about plain data (empty when it is a valid document)."""
    try:
        Document.model_validate(raw)
    except ValidationError as exc:
        return list(problems_from(exc, raw, file=file))
    return []


def load_document(
    source: str | bytes | Path, *, origin: str = "<input>", limits: LoadLimits = DEFAULT_LIMITS
) -> Document:
    """Read and type a document (YAML or JSON text or bytes, or a file).

    Raises ``DocumentError`` with every problem when the source cannot be read or does not
    follow the schema. Checks beyond the schema are ``validate``'s: a loaded document may
    still reference an undeclared timeout or use something Baton does not run.
    """
    raw = read_document(source, origin=origin, limits=limits)
    try:
        return Document.from_raw(raw)
    except ValidationError as exc:
        raise DocumentError(list(problems_from(exc, raw, file=origin))) from None


def validate(
    document: Document | Mapping[str, Any] | str | bytes | Path,
    *,
    file: str | None = None,
    limits: LoadLimits = DEFAULT_LIMITS,
) -> list[Problem]:
    """Every problem of a document: unreadable, against the schema, beyond it, unsupported.

    An empty list means Baton can run it. Problems with severity ``unsupported`` are valid DSL
    that Baton will not execute.
    """
    if isinstance(document, Document):
        raw = document.raw
        found: list[Problem] = []
    elif isinstance(document, Mapping):
        raw = dict(document)
        found = schema_problems(raw, file=file)
    else:
        origin = file or (str(document) if isinstance(document, Path) else "<input>")
        try:
            raw = read_document(document, origin=origin, limits=limits)
        except DocumentError as exc:
            return exc.problems
        file = origin
        found = schema_problems(raw, file=file)
    return sorted(
        found + semantic_problems(raw, file=file, limits=limits), key=lambda p: _paths.order(raw, p.path)
    )
