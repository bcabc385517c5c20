"""The one exception of the expressions layer; the engine translates it into a problem-details fault."""

from __future__ import annotations

__all__ = ["ExpressionError"]


class ExpressionError(Exception):
    """An expression did not compile, or failed when evaluated.

    ``path`` names where the expression sits in the document (e.g. ``do[0].setShape.set.size``),
    ``expression`` is its source text, so that every message says what and where.
    """

    def __init__(self, message: str, *, path: str = "", expression: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.expression = expression

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        what = f" in `{self.expression}`" if self.expression else ""
        return f"{self.message}{what}{where}"
