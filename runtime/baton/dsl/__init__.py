"""Phases 1-2: load Serverless Workflow documents into typed models and validate them.

``load_document`` reads YAML or JSON under hard bounds and returns a typed ``Document``;
``validate`` returns every problem at once, each located by file and JSON path
(``do[2].fetchUser.call``). What Baton runs is listed in ``baton.dsl.support``.
"""

from baton.dsl.durations import DurationError, duration_seconds, iso_duration_seconds
from baton.dsl.loading import DEFAULT_LIMITS, LoadLimits, read_document, read_documents
from baton.dsl.models import *  # noqa: F403
from baton.dsl.models import __all__ as _models
from baton.dsl.problems import DocumentError, Problem, Severity
from baton.dsl.support import (
    SUPPORTED_AUTHENTICATIONS,
    SUPPORTED_CALLS,
    SUPPORTED_PROCESSES,
    SUPPORTED_TASKS,
    is_supported,
)
from baton.dsl.validation import load_document, problems_from_validation_error, schema_problems, validate

__all__ = [
    *_models,
    "DEFAULT_LIMITS",
    "SUPPORTED_AUTHENTICATIONS",
    "SUPPORTED_CALLS",
    "SUPPORTED_PROCESSES",
    "SUPPORTED_TASKS",
    "DocumentError",
    "DurationError",
    "LoadLimits",
    "Problem",
    "Severity",
    "duration_seconds",
    "is_supported",
    "iso_duration_seconds",
    "load_document",
    "problems_from_validation_error",
    "read_document",
    "read_documents",
    "schema_problems",
    "validate",
]
