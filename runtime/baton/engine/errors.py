"""The engine's one exception hierarchy: the spec's problem details (RFC 7807).

A ``WorkflowError`` is both the exception raised inside a run and the value a faulted run
reports. ``instance`` is the JSON pointer of the task that raised it (``/do/0/getPet``); it is
filled in by the task wrapper when the error crosses it, so helpers deep in the engine need not
know where they are.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

__all__ = [
    "ERROR_TYPE_BASE",
    "AuthenticationError",
    "AuthorizationError",
    "CommunicationError",
    "CompileError",
    "ConfigurationError",
    "ExpressionFault",
    "LimitExceeded",
    "RuntimeFault",
    "TimeoutFault",
    "ValidationFault",
    "WorkflowError",
    "error_kind",
]

ERROR_TYPE_BASE: Final = "https://serverlessworkflow.io/spec/1.0.0/errors/"


class WorkflowError(Exception):
    """An error per the spec: ``type`` and ``status`` always set, ``instance`` once raised."""

    kind: ClassVar[str] = "runtime"
    default_status: ClassVar[int] = 500

    def __init__(
        self,
        detail: str | None = None,
        *,
        type: str | None = None,
        status: int | None = None,
        title: str | None = None,
        instance: str | None = None,
    ) -> None:
        super().__init__(detail or title or type or self.kind)
        self.type = type or ERROR_TYPE_BASE + self.kind
        self.status = self.default_status if status is None else status
        self.title = title
        self.detail = detail
        self.instance = instance

    def to_dict(self) -> dict[str, Any]:
        """The problem-details object, as catch ``as`` variables and run results expose it."""
        problem: dict[str, Any] = {"type": self.type, "status": self.status}
        if self.title is not None:
            problem["title"] = self.title
        if self.detail is not None:
            problem["detail"] = self.detail
        if self.instance is not None:
            problem["instance"] = self.instance
        return problem

    @classmethod
    def from_dict(cls, problem: dict[str, Any]) -> WorkflowError:
        return WorkflowError(
            problem.get("detail"),
            type=problem.get("type"),
            status=problem.get("status"),
            title=problem.get("title"),
            instance=problem.get("instance"),
        )

    def __str__(self) -> str:
        head = self.title or self.type.rsplit("/", 1)[-1]
        text = f"{head} ({self.status})"
        if self.detail:
            text += f": {self.detail}"
        if self.instance:
            text += f" at {self.instance}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"


class ConfigurationError(WorkflowError):
    kind = "configuration"
    default_status = 400


class ValidationFault(WorkflowError):
    kind = "validation"
    default_status = 400


class ExpressionFault(WorkflowError):
    kind = "expression"
    default_status = 400


class AuthenticationError(WorkflowError):
    kind = "authentication"
    default_status = 401


class AuthorizationError(WorkflowError):
    kind = "authorization"
    default_status = 403


class TimeoutFault(WorkflowError):
    kind = "timeout"
    default_status = 408


class CommunicationError(WorkflowError):
    kind = "communication"
    default_status = 500


class RuntimeFault(WorkflowError):
    kind = "runtime"
    default_status = 500


class LimitExceeded(RuntimeFault):
    """A guard of ``Limits`` stopped the run (step budget, payload size, fork width...)."""


def error_kind(error_type: str) -> str | None:
    """The standard kind (``communication``...) of an error type URI, if it is a standard one.

    Older drafts and the conformance kit spell the standard types under other
    serverlessworkflow.io paths (``/dsl/errors/types/communication``); they name the same kinds.
    """
    if "serverlessworkflow.io" not in error_type:
        return None
    kind = error_type.rstrip("/").rsplit("/", 1)[-1]
    return kind if kind in _STANDARD_KINDS else None


_STANDARD_KINDS: Final = frozenset(
    {
        "configuration",
        "validation",
        "expression",
        "authentication",
        "authorization",
        "timeout",
        "communication",
        "runtime",
    }
)


class CompileError(Exception):
    """A validated document that still cannot be compiled (e.g. an unknown workflow to run).

    ``problems`` holds ``(path, message)`` pairs; compiling never stops at the first one.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
