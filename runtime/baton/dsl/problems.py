"""What validation finds: problems located by file and JSON path, and the error carrying them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DocumentError", "Problem", "Severity"]

#: ``error``: the document is wrong. ``unsupported``: it is valid DSL that Baton will not run.
Severity = Literal["error", "unsupported"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``path`` reads like ``do[2].fetchUser.call``; empty means the whole document."""

    path: str
    message: str
    file: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        located = f"{self.path}: {self.message}" if self.path else self.message
        return f"{self.file}: {located}" if self.file else located

    def to_dict(self) -> dict[str, str | None]:
        return {"file": self.file, "path": self.path, "message": self.message, "severity": self.severity}


class DocumentError(Exception):
    """A document could not be loaded or is not valid; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid document"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)
