"""Whether a runtime expression compiles as jq, with the variables in scope where it is used.

The DSL layer sits below ``baton.expressions`` and cannot use its compiler, so it asks libjq
directly; the answers are cached because libjq's compile costs about a millisecond.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jq

__all__ = ["STANDARD_VARIABLES", "expression_body", "jq_compile_error", "strict_body"]

#: Arguments every expression may use (dsl.md, "Runtime expression arguments").
STANDARD_VARIABLES = frozenset(
    {"context", "input", "output", "secrets", "authorization", "task", "workflow", "runtime"}
)

_STRICT = re.compile(r"^\s*\$\{(?P<body>.*)\}\s*$", re.DOTALL)
#: ``.``, ``.a.b``, ``.a[0].b``, ``$x.a``: what needs no compiler to be known valid.
_PLAIN_PATH = re.compile(r"^\s*(?:\.|(?:\$[A-Za-z_]\w*)?(?:\.[A-Za-z_]\w*|\[\d+\])*)\s*$")
_VARIABLE = re.compile(r"\$([A-Za-z_]\w*)")


def strict_body(text: str) -> str | None:
    """The jq inside ``${ }``, or ``None`` when ``text`` is not wholly one expression."""
    match = _STRICT.match(text)
    return match.group("body") if match else None


def expression_body(text: str) -> str:
    """The jq of a field that is always an expression, where ``${ }`` is optional."""
    body = strict_body(text)
    return text if body is None else body


def jq_compile_error(body: str, variables: frozenset[str]) -> str | None:
    """Why ``body`` does not compile with ``variables`` bound, or ``None`` if it does."""
    if not body.strip():
        return "the expression is empty"
    used = frozenset(_VARIABLE.findall(body))
    if _PLAIN_PATH.match(body) and used <= variables:
        return None
    # Only the variables the text mentions matter: it keeps the cache key small and shared.
    return _compile_error(body, used & variables)


@lru_cache(maxsize=1024)
def _compile_error(body: str, variables: frozenset[str]) -> str | None:
    try:
        jq.compile(body, args=dict.fromkeys(variables))
    except ValueError as exc:
        return _clean(str(exc))
    except Exception as exc:  # libjq reports some failures with other types; none may escape
        return _clean(str(exc)) or type(exc).__name__
    return None


_LOCATION = re.compile(r" at <top-level>, line \d+(?:, column \d+)?:?$")


def _clean(message: str) -> str:
    """libjq's first complaint, without its prefix and echo of the program."""
    for line in message.splitlines():
        line = line.strip()
        if line.startswith("jq: error"):
            line = line.removeprefix("jq: error:").removeprefix("jq: error").strip()
            return _LOCATION.sub("", line)
    return message.strip().splitlines()[0] if message.strip() else message
