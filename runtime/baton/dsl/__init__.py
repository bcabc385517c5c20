"""Phases 1-2: load Serverless Workflow documents into typed models and validate them.

``load_document`` reads YAML or JSON under hard bounds and returns a typed ``Document``;
``validate`` returns every problem at once, each located by file and JSON path.
"""

from baton.dsl.models import *  # noqa: F403
from baton.dsl.models import __all__ as _models
from baton.dsl.problems import DocumentError, Problem, Severity

__all__ = [*_models, "DocumentError", "Problem", "Severity"]
