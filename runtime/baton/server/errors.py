"""The server's exception hierarchy: what can go wrong serving definitions, as one family."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DefinitionError", "DefinitionProblem", "ServerError"]


class ServerError(Exception):
    """Base of every error ``baton.server`` raises on purpose."""


@dataclass(frozen=True, slots=True)
class DefinitionProblem:
    """One reason a definition was refused, worded like ``baton validate`` words it."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class DefinitionError(ServerError):
    """A manifest (or a folder of them) cannot be served; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[DefinitionProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))
